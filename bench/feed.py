"""How long a chat's feed takes to read, rank and show, as the chat grows.

    .venv/bin/python bench/feed.py [--clips 100 1000] [--runs 7]

Each size is one chat with that many clips (ages spread over ten days, a third of them remixes),
five reactions per clip on average from fifty people. Each row times, median over the runs
(the first left out): the query (`storage.feed.chat_clips`, counts and cameos included), the
ranking alone (`bot.feed.rank`, hot), a whole `/feed` answer (`bot.feed.page`), and the feed
page and a clip page over HTTP from the real feed server (jinja2 rendering included). SQLite in
a temporary folder, the embedded default.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.feed import FeedConfig, start_feed
from bot.deps import Deps
from bot.feed import Cursor, page, rank
from bot.types import ChatRef, ChatUser
from storage import feed as feed_rows
from storage.blobs import BlobStore
from storage.db import connect
from storage.migrate import upgrade
from storage.models import utcnow
from tests.fakes import RecordingPort, RecordingQueue
from tests.feed_rows import posted_clip

CHAT = ChatRef("bench", "room", "Bench room")


async def fill(db_url: str, clips: int) -> list[int]:
    db = connect(db_url)
    await upgrade(db)
    rng = random.Random(clips)
    people = [ChatUser("bench", f"u{n}", f"Person {n}", f"p{n}") for n in range(50)]
    ids: list[int] = []
    for n in range(clips):
        parent = rng.choice(ids) if ids and rng.random() < 0.33 else None
        ids.append(
            await posted_clip(
                db,
                CHAT,
                rng.choice(people),
                f"clip {n}",
                hours_old=rng.uniform(0, 240),
                parent_id=parent,
            )
        )
    async with db.transaction() as session:
        users = {
            p.user_id: await feed_rows.user_by_platform_id(session, "bench", p.user_id)
            for p in people
        }
        for clip_id in ids:
            for person in rng.sample(people, rng.randint(0, 10)):
                user = users[person.user_id]
                if user is not None and user.id is not None:
                    await feed_rows.react(
                        session, clip_id=clip_id, user_id=user.id, added=["👍"], removed=[]
                    )
    await db.close()
    return ids


async def _ranked(rows: list[feed_rows.FeedRow], now: object) -> object:
    return rank(rows, "hot", now)  # type: ignore[arg-type]


async def timed(runs: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await work()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1000


async def measure(db_url: str, clips: int, runs: int, folder: Path) -> str:
    ids = await fill(db_url, clips)
    db = connect(db_url)
    deps = Deps(db=db, queue=RecordingQueue(), blobs=BlobStore(folder / "blobs"))
    viewer = ChatUser("bench", "u1", "Person 1")

    async def query() -> object:
        async with db.session() as session:
            return await feed_rows.chat_clips(session, CHAT.platform, CHAT.chat_id)

    rows = await query()
    assert isinstance(rows, list)
    now = utcnow()
    ranking = await timed(runs, lambda: _ranked(rows, now))
    reading = await timed(runs, query)
    answer = await timed(runs, lambda: page(deps, RecordingPort(), CHAT, viewer, Cursor()))
    config = FeedConfig(host="127.0.0.1", port=0, secret=b"bench" * 8)
    runner, links, _ = await start_feed(config, db, deps.blobs)
    url = links.feed_url(CHAT, viewer)
    async with aiohttp.ClientSession() as http:

        async def get(address: str) -> object:
            async with http.get(address) as response:
                assert response.status == 200, response.status
                return await response.read()

        feed_page = await timed(runs, lambda: get(url + "?sort=hot"))
        clip_page = await timed(runs, lambda: get(url + f"clip/{ids[0]}"))
    await runner.cleanup()
    await db.close()
    return (
        f"{clips:>6} {reading:>9.1f} {ranking:>9.2f} {answer:>9.1f} {feed_page:>10.1f} "
        f"{clip_page:>10.1f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"SQLite; milliseconds, median of {args.runs - 1} runs")
    print(" clips     query      rank  /feed ans  feed page  clip page")
    for clips in args.clips:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
            print(await measure(url, clips, args.runs, folder), flush=True)


if __name__ == "__main__":
    asyncio.run(main())

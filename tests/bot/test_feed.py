"""The feed in the core: ranking (a table), /feed and its pages, chains, reactions, /remix N."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.feed import Cursor, rank
from bot.feed_commands import FeedPage, React, ReactionCounts, RemixByNumber, ShowFeed, ToggleLike
from bot.replies import Note, Queued, Refused
from bot.service import Core
from bot.types import ChatUser
from storage.blobs import BlobStore
from storage.db import Database
from storage.feed import FeedRow
from storage.models import Clip, Job
from tests.bot.harness import make_bot
from tests.fakes import CHAT, OTHER_CHAT, RecordingPort, message, person
from tests.feed_rows import posted_clip

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def row(clip_id: int, hours_old: float, reactions: int = 0, remixes: int = 0) -> FeedRow:
    return FeedRow(
        clip_id=clip_id,
        prompt=f"clip {clip_id}",
        author="@a",
        author_id=1,
        author_user_id="u1",
        created_at=NOW - timedelta(hours=hours_old),
        parent_id=None,
        reactions=reactions,
        remixes=remixes,
        blob_key="",
        width=1,
        height=1,
        duration_s=1.0,
    )


# (clips as (id, hours old, reactions, remixes), sort, expected order of ids)
RANKING = [
    # new: newest first, whatever the counts
    ([(1, 5, 9, 0), (2, 1, 0, 0), (3, 3, 0, 0)], "new", [2, 3, 1]),
    # top: points = reactions + 2 * remixes; ties newest first
    ([(1, 50, 3, 0), (2, 1, 1, 1), (3, 2, 0, 0), (4, 300, 4, 0)], "top", [4, 2, 1, 3]),
    # hot: same age, more points is hotter
    ([(1, 5, 1, 0), (2, 5, 4, 0), (3, 5, 0, 1)], "hot", [2, 3, 1]),
    # hot: a remix outweighs a reaction
    ([(1, 5, 1, 0), (2, 5, 0, 1)], "hot", [2, 1]),
    # hot: age decays heat: 3 reactions a day ago lose to 1 reaction an hour ago
    ([(1, 24, 3, 0), (2, 1, 1, 0)], "hot", [2, 1]),
    # hot: but enough reactions keep an older clip up
    ([(1, 24, 60, 0), (2, 1, 1, 0)], "hot", [1, 2]),
    # hot: only this week's clips, however many reactions an old one has
    ([(1, 24 * 8, 500, 9), (2, 1, 0, 0)], "hot", [2]),
    # hot: equal heat, newer first
    ([(1, 3, 0, 0), (2, 3, 0, 0)], "hot", [2, 1]),
    ([], "hot", []),
]


@pytest.mark.parametrize(("clips", "sort", "expected"), RANKING)
def test_ranking(clips: list[tuple[int, float, int, int]], sort: str, expected: list[int]) -> None:
    rows = [row(*clip) for clip in clips]
    assert [r.clip_id for r in rank(rows, sort, NOW)] == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cursor",
    [Cursor(), Cursor("new", 3), Cursor("top", 1023), Cursor("new", 2, person_id=987654321)],
)
def test_a_cursor_survives_packing(cursor: Cursor) -> None:
    assert Cursor.unpack(cursor.pack()) == cursor


@pytest.fixture
def core(sqlite_db: Database, blobs: BlobStore) -> tuple[Core, RecordingPort]:
    # The core as its own tests build it (so /remix N passes the same checks as any prompt).
    made = make_bot(sqlite_db, blobs)
    return made.core, made.port


def feed(args: str = "", who: int = 1) -> ShowFeed:
    return ShowFeed(args=args, author=person(who), chat=CHAT, message=message(f"feed-{args}"))


def order(note: Note) -> list[int]:
    """The clip numbers a feed answer lists, in order."""
    return [int(re.findall(r"#(\d+)", line)[0]) for line in note.text.splitlines() if "“" in line]


async def test_reactions_added_and_removed_change_the_ranking(
    core: tuple[Core, RecordingPort], sqlite_db: Database
) -> None:
    bot, port = core
    older = await posted_clip(sqlite_db, CHAT, person(1), "older", hours_old=3)
    newer = await posted_clip(sqlite_db, CHAT, person(2), "newer", hours_old=1)
    first = await bot.handle(feed())
    assert isinstance(first, Note) and order(first) == [newer, older]
    assert port.of("post")[-1].reply == first  # posted in the chat, in reply to /feed
    assert "/f/" in first.text and "feed page" in first.text
    for who in (3, 4, 5):
        await bot.handle(React(person(who), CHAT, message(f"clip-{older}"), added=("👍",)))
    liked = await bot.handle(feed())
    assert isinstance(liked, Note) and order(liked) == [older, newer]
    assert "❤️ 3" in liked.text.splitlines()[1]
    for who in (3, 4):
        await bot.handle(React(person(who), CHAT, message(f"clip-{older}"), removed=("👍",)))
    again = await bot.handle(feed())
    assert isinstance(again, Note) and order(again) == [newer, older]
    # A reaction on a message that shows no clip counts for nothing.
    ignored = await bot.handle(React(person(3), CHAT, message("chatter"), added=("👍",)))
    assert ignored == Note("")


async def test_anonymous_counts_replace_each_other(
    core: tuple[Core, RecordingPort], sqlite_db: Database
) -> None:
    bot, _ = core
    clip = await posted_clip(sqlite_db, CHAT, person(1), "a channel post")
    at = message(f"clip-{clip}")
    assert await bot.handle(ReactionCounts(CHAT, at, (("👍", 4), ("🔥", 2)), person(0))) == Note(
        f"❤️ 6 on #{clip}"
    )
    assert await bot.handle(ReactionCounts(CHAT, at, (("👍", 1),), person(0))) == Note(
        f"❤️ 1 on #{clip}"
    )


async def test_the_heart_button_toggles_per_person(
    core: tuple[Core, RecordingPort], sqlite_db: Database
) -> None:
    bot, _ = core
    clip = await posted_clip(sqlite_db, CHAT, person(1), "a heart")
    on = await bot.handle(ToggleLike(person(2), CHAT, clip))
    also = await bot.handle(ToggleLike(person(3), CHAT, clip))
    off = await bot.handle(ToggleLike(person(2), CHAT, clip))
    assert [on.text, also.text, off.text] == [
        f"❤️ You like #{clip} (1 in all).",
        f"❤️ You like #{clip} (2 in all).",
        f"You took your ❤️ back from #{clip} (1 in all).",
    ]
    elsewhere = await bot.handle(ToggleLike(person(2), OTHER_CHAT, clip))
    assert isinstance(elsewhere, Refused)


async def test_feed_sorts_people_and_pages(
    core: tuple[Core, RecordingPort], sqlite_db: Database
) -> None:
    bot, _ = core
    ids = [
        await posted_clip(sqlite_db, CHAT, person(1 + n % 2), f"clip {n}", hours_old=50 - n)
        for n in range(10)
    ]
    await posted_clip(sqlite_db, OTHER_CHAT, person(1), "not this chat's")
    await bot.handle(React(person(9), CHAT, message(f"clip-{ids[0]}"), added=("🔥",)))
    newest = await bot.handle(feed("new"))
    assert isinstance(newest, Note) and order(newest) == ids[::-1][:8]
    assert "page 1 of 2" in newest.text and [c.label for c in newest.choices] == ["Next ▶"]
    turned = await bot.handle(FeedPage(newest.choices[0].button.target_id, person(1), CHAT))
    assert isinstance(turned, Note) and order(turned) == ids[::-1][8:]
    assert [c.label for c in turned.choices] == ["◀ Previous"]
    top = await bot.handle(feed("top"))
    assert isinstance(top, Note) and order(top)[0] == ids[0]
    theirs = await bot.handle(feed("@person2"))
    assert isinstance(theirs, Note) and order(theirs) == ids[1::2][::-1]
    assert "Clips by @person2" in theirs.text
    named = await posted_clip(sqlite_db, CHAT, ChatUser("test", "u9", "Carol Jones"), "hers")
    hers = await bot.handle(feed("@carol jones"))
    assert isinstance(hers, Note) and order(hers) == [named]
    nobody = await bot.handle(feed("@nobody"))
    assert isinstance(nobody, Refused)
    assert isinstance(await bot.handle(feed("sideways")), Refused)


async def test_feed_of_a_clip_shows_its_parent_and_remix_tree(
    core: tuple[Core, RecordingPort], sqlite_db: Database
) -> None:
    bot, port = core
    root = await posted_clip(sqlite_db, CHAT, person(1), "root")
    child = await posted_clip(sqlite_db, CHAT, person(2), "child", parent_id=root)
    grandchild = await posted_clip(sqlite_db, CHAT, person(3), "grandchild", parent_id=child)
    sibling = await posted_clip(sqlite_db, CHAT, person(1), "sibling", parent_id=root)
    chain = await bot.handle(feed(f"#{child}"))
    assert isinstance(chain, Note)
    assert order(chain) == [root, child, grandchild]
    lines = [line for line in chain.text.splitlines() if "“" in line]
    assert lines[0].startswith(f"↑ #{root}") and lines[1].startswith(f"#{child}")
    assert lines[2].startswith(f"└ #{grandchild}")
    assert f"https://chat.test/{CHAT.chat_id}/clip-{child}" in chain.text  # the port's links
    assert f"/remix {child}" in chain.text
    whole = await bot.handle(feed(f"#{root}"))
    assert isinstance(whole, Note) and order(whole) == [root, child, grandchild, sibling]
    assert "🔁 2" in whole.text.splitlines()[1]
    missing = await bot.handle(feed("#999"))
    assert isinstance(missing, Refused) and port.of("post")[-1].reply == missing


async def test_remix_by_number_records_the_parent_only_for_this_chats_clips(
    core: tuple[Core, RecordingPort], sqlite_db: Database
) -> None:
    bot, _ = core
    clip = await posted_clip(sqlite_db, CHAT, person(1), "a dog surfing")
    theirs = await posted_clip(sqlite_db, OTHER_CHAT, person(1), "elsewhere")
    queued = await bot.handle(RemixByNumber(f"{clip} make it rain", person(2), CHAT, message("r")))
    assert isinstance(queued, Queued) and queued.remix_of == clip
    async with sqlite_db.session() as session:
        job = (await session.exec(select(Job).where(Job.id == queued.job_id))).one()
    assert job.parent_clip_id == clip and "make it rain" in job.prompt
    for args in (f"{theirs} make it rain", "12", "twelve make it rain", f"#{clip}"):
        refused = await bot.handle(RemixByNumber(args, person(2), CHAT, message("r")))
        assert isinstance(refused, Refused), args


async def test_a_deleted_clip_leaves_the_feed(
    core: tuple[Core, RecordingPort], sqlite_db: Database
) -> None:
    bot, _ = core
    kept = await posted_clip(sqlite_db, CHAT, person(1), "kept")
    gone = await posted_clip(sqlite_db, CHAT, person(1), "gone")
    async with sqlite_db.transaction() as session:
        clip = await session.get(Clip, gone)
        assert clip is not None
        clip.deleted = True
        session.add(clip)
    listed = await bot.handle(feed("new"))
    assert isinstance(listed, Note) and order(listed) == [kept]
    assert isinstance(await bot.handle(RemixByNumber(f"{gone} again", person(1), CHAT)), Refused)

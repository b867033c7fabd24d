"""Ack latency: command → first reply (the Queued status) through the bot core.

200 commands are put in flight at once (200 different people, so no quota refuses them) against
a real SQLite file and the in-process queue; the port records when each first reply is posted.
Jobs are not rendered: this measures the core's answer, not the engine. A small warm-up burst
comes first, as on a bot that has been running.

    .venv/bin/python bench/ack_latency.py [--commands 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing_port import TimingPort
from bot.commands import Generate
from bot.deps import BotConfig, Deps
from bot.service import Core
from bot.types import ChatRef, ChatUser, MessageRef
from engine.config import RedisConfig
from engine.queue import MODERATE_TEXT, Payload
from engine.queue_backends import make_queue
from storage.blobs import BlobStore
from storage.db import connect
from storage.migrate import upgrade

GOAL_P99_MS = 50.0


class InstantCheck:
    """A light pool whose prompt check allows everything at once (all scores 0)."""

    async def call(self, task: str, payload: Payload, *, timeout_s: float) -> Payload:
        assert task == MODERATE_TEXT
        return {"results": [{"scores": {}, "rule_hits": []} for _ in payload["texts"]]}

    async def close(self) -> None:
        return None


async def one_round(folder: Path, commands: int) -> list[float]:
    db = connect(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    await upgrade(db)

    async def no_op(job_id: str) -> None:
        return None

    queue = make_queue(RedisConfig(), no_op)
    port = TimingPort()
    core = Core(
        Deps(
            db=db,
            queue=queue,
            blobs=BlobStore(folder / "blobs"),
            # The prompt check answers at once here: this times the core's own answer
            # (bench/guardrails.py times the real classifier on the light pool).
            light=InstantCheck(),
            config=BotConfig(max_jobs_per_user=1_000),
        )
    )
    core.attach(port)
    chat = ChatRef("bench", "room")
    sent_at: dict[str, float] = {}

    async def command(i: int) -> None:
        who = ChatUser("bench", f"user{i}", f"User {i}")
        message = MessageRef(chat, f"m{i}")
        sent_at[message.message_id] = time.perf_counter()
        await core.handle(
            Generate(prompt=f"a cat number {i}", author=who, chat=chat, message=message)
        )

    # A running bot has served commands before: warm the connection pool and statement cache
    # with a small burst of other people, then measure the big one.
    await asyncio.gather(*(command(-i) for i in range(1, 6)))
    for warm in [m for m in sent_at if m.startswith("m-")]:
        del sent_at[warm]
    await asyncio.gather(*(command(i) for i in range(commands)))
    await queue.close()
    await db.close()
    return [(port.answered[m][0] - t) * 1000 for m, t in sent_at.items()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            latencies = sorted(asyncio.run(one_round(Path(folder), args.commands)))
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"round {n + 1}: {args.commands} commands in flight: ack p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (goal p99 < {GOAL_P99_MS:.0f} ms)"
        )


if __name__ == "__main__":
    main()

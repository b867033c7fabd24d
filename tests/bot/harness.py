"""The core as the bot tests drive it: a recording chat port, a real database and blob folder,
a recording queue; and the steps those tests share (a /sora command, a finished job, the jobs
recorded, waiting on what the fakes record)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import select

from bot.commands import Generate
from bot.deps import BotConfig, Deps
from bot.replies import Queued
from bot.service import Core
from engine.queue import LightCalls
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Clip, Job, JobState, utcnow
from tests.fakes import CHAT, RecordingLight, RecordingPort, RecordingQueue, message, person


@dataclass
class Bot:
    core: Core
    port: RecordingPort
    queue: RecordingQueue
    db: Database
    blobs: BlobStore


def make_bot(
    db: Database, blobs: BlobStore, *, light: LightCalls | None = None, **config: object
) -> Bot:
    port, queue = RecordingPort(), RecordingQueue()
    seeds = iter(range(100, 10_000))
    deps = Deps(
        db=db,
        queue=queue,
        blobs=blobs,
        light=light if light is not None else RecordingLight(),
        config=BotConfig(**config),  # type: ignore[arg-type]
        new_seed=lambda: next(seeds),
    )
    core = Core(deps)
    core.attach(port)
    return Bot(core, port, queue, db, blobs)


def sora(prompt: str, who: int = 1, msg: str = "m1", reply_to: str | None = None) -> Generate:
    return Generate(
        prompt=prompt,
        author=person(who),
        chat=CHAT,
        message=message(msg),
        reply_to=message(reply_to) if reply_to else None,
    )


async def jobs(db: Database) -> list[Job]:
    async with db.session() as session:
        return list((await session.exec(select(Job))).all())


async def finish(bot: Bot, job_id: str, data: bytes | None = None) -> Clip:
    """What the worker would leave behind for a finished job (bytes of its own unless given)."""
    data = data if data is not None else f"stand-in clip for {job_id}".encode()
    key = await bot.blobs.put(data, "mp4")
    async with bot.db.transaction() as session:
        job = await job_rows.get_job(session, job_id)
        await job_rows.transition(session, job_id, JobState.RUNNING)
        clip = job_rows.clip_of(
            job, blob_key=key, size_bytes=len(data), width=512, height=512, duration_s=5.0
        )
        session.add(clip)
        await session.flush()
        await job_rows.transition(session, job_id, JobState.DONE)
    return clip


async def start(db: Database, job_id: str, *, ago_s: float = 0.0) -> None:
    """The job starts rendering, as if `ago_s` seconds ago."""
    async with db.transaction() as session:
        await job_rows.transition(
            session, job_id, JobState.RUNNING, started_at=utcnow() - timedelta(seconds=ago_s)
        )


async def until(condition: Callable[[], object], timeout_s: float = 5) -> None:
    """Wait for `condition` to hold: the recording port and queue have no event to wait on."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def done(bot: Bot, prompt: str, who: int) -> tuple[str, int]:
    """A /sora by person `who` whose clip is finished: its job id and clip id."""
    queued = await bot.core.handle(sora(prompt, who=who, msg=f"m-{prompt}"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id)
    assert clip.id is not None
    return queued.job_id, clip.id

"""Cancelling reaches the pipeline: a cancelled queued job is skipped, a rendering one stops at
its next step and keeps nothing, and the worker is free for the next job at once."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from engine.channels import InProcessEvents
from engine.context import WorkerContext
from engine.jobs import run_job
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Clip, JobState
from tests.engine.harness import SlowBackend
from tests.factories import make_job


def context(db: Database, blobs: BlobStore, backend: SlowBackend) -> WorkerContext:
    return WorkerContext(
        db=db, blobs=blobs, events=InProcessEvents(), backend=backend, owns_db=False
    )


async def cancel(db: Database, job_id: str) -> None:
    async with db.transaction() as session:
        assert await job_rows.transition(session, job_id, JobState.CANCELLED, error="cancelled")


async def state(db: Database, job_id: str) -> JobState | None:
    async with db.session() as session:
        return await job_rows.state_of(session, job_id)


async def test_a_job_cancelled_while_queued_is_skipped(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    backend = SlowBackend()
    job = await make_job(sqlite_db)
    await cancel(sqlite_db, job.id)
    ctx = context(sqlite_db, blobs, backend)
    await run_job(ctx, job.id)
    assert backend.drawn == 0
    assert await ctx.events.read(block_ms=0) == []  # type: ignore[attr-defined]


async def test_a_job_cancelled_while_rendering_stops_and_keeps_nothing(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    # 200 frames at 50 ms: ten seconds of rendering unless the cancel stops it.
    backend = SlowBackend()
    job = await make_job(sqlite_db, duration_s=25.0, fps=8)
    ctx = context(sqlite_db, blobs, backend)
    running = asyncio.create_task(run_job(ctx, job.id))
    await asyncio.to_thread(backend.started.wait, 10)
    cancelled_at = time.monotonic()
    await cancel(sqlite_db, job.id)
    await running
    freed_s = time.monotonic() - cancelled_at
    print(f"\ncancel to free: {freed_s:.2f} s after {backend.drawn} of 200 frames")
    assert backend.drawn < 200
    assert await state(sqlite_db, job.id) is JobState.CANCELLED
    async with sqlite_db.session() as session:
        assert (await session.exec(select(Clip))).all() == []
    events = [d.event for d in await ctx.events.read(block_ms=0)]  # type: ignore[attr-defined]
    assert [e.kind for e in events if e.kind not in ("started", "progress")] == []

    # The worker takes the next job at once.
    backend.frame_s = 0.0
    following = await make_job(sqlite_db)
    await run_job(ctx, following.id)
    assert await state(sqlite_db, following.id) is JobState.DONE


async def test_a_clip_finished_after_its_cancel_is_not_kept(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    # A backend that never reports gives the cancel no step to stop at: the render finishes,
    # but the job is no longer running, so its clip and file are dropped.
    backend = SlowBackend(frame_s=0.2, report=False)
    job = await make_job(sqlite_db)
    ctx = context(sqlite_db, blobs, backend)
    running = asyncio.create_task(run_job(ctx, job.id))
    await asyncio.to_thread(backend.started.wait, 10)
    await cancel(sqlite_db, job.id)
    await running
    assert backend.drawn == 8
    async with sqlite_db.session() as session:
        assert (await session.exec(select(Clip))).all() == []
    assert not any((blobs.root).rglob("*.mp4"))
    events = [d.event for d in await ctx.events.read(block_ms=0)]  # type: ignore[attr-defined]
    assert "done" not in [e.kind for e in events]

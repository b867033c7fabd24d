"""Leases on running jobs: renewed while a worker renders, taken over once they lapse (three
tries, then the job ends and the person is told), handed back when a worker stops."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from engine.channels import InProcessEvents
from engine.context import WorkerContext
from engine.jobs import run_job
from engine.lease import GAVE_UP, MAX_ATTEMPTS, sweep
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Job, JobState, utcnow
from tests.engine.harness import SlowBackend
from tests.factories import make_job


async def row(db: Database, job_id: str) -> Job:
    async with db.session() as session:
        return await job_rows.get_job(session, job_id)


async def lapse(db: Database, job_id: str, *, attempts: int) -> None:
    """What a worker that died mid-render leaves: running, its lease run out."""
    async with db.transaction() as session:
        await session.exec(
            update(Job)
            .where(Job.id == job_id)  # type: ignore[arg-type]
            .values(
                state=JobState.RUNNING,
                worker="gone-1-abc",
                lease_until=utcnow() - timedelta(seconds=1),
                attempts=attempts,
            )
        )


async def test_a_lapsed_lease_is_requeued_until_the_last_try(any_db: Database) -> None:
    requeued: list[tuple[str, int]] = []

    async def requeue(job_id: str, attempt: int) -> None:
        requeued.append((job_id, attempt))

    events = InProcessEvents()
    again, last = await make_job(any_db), await make_job(any_db)
    live = await make_job(any_db)
    await lapse(any_db, again.id, attempts=1)
    await lapse(any_db, last.id, attempts=MAX_ATTEMPTS)
    async with any_db.transaction() as session:  # a running job whose worker is alive
        until = utcnow() + timedelta(seconds=30)
        await job_rows.claim_many(session, [live.id], worker="alive-1-abc", lease_until=until)

    assert await sweep(any_db, requeue, events) == 2
    assert requeued == [(again.id, 1)]
    assert (await row(any_db, again.id)).state is JobState.QUEUED
    gave_up = await row(any_db, last.id)
    assert gave_up.state is JobState.FAILED and gave_up.error == GAVE_UP
    [told] = [d.event for d in await events.read(block_ms=0)]
    assert (told.job_id, told.kind, told.error) == (last.id, "failed", GAVE_UP)
    assert (await row(any_db, live.id)).state is JobState.RUNNING
    assert await sweep(any_db, requeue, events) == 0  # nothing lapses twice


async def test_a_running_job_under_a_live_lease_is_not_claimed_again(any_db: Database) -> None:
    job = await make_job(any_db)
    until = utcnow() + timedelta(seconds=30)
    async with any_db.transaction() as session:
        first = await job_rows.claim_many(session, [job.id], worker="w1", lease_until=until)
        second = await job_rows.claim_many(session, [job.id], worker="w2", lease_until=until)
    assert list(first) == [job.id] and second == {}


async def test_a_worker_renews_its_lease_while_it_renders(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    backend = SlowBackend(frame_s=0.1)
    job = await make_job(sqlite_db, duration_s=2.0, fps=8)  # 16 frames, 1.6 s
    ctx = WorkerContext(
        db=sqlite_db,
        blobs=blobs,
        events=InProcessEvents(),
        backend=backend,
        owns_db=False,
        lease_s=1.0,
        renew_s=0.3,
    )
    # A lease of 1 s outlived by a 1.6 s render: without renewal another worker's sweep would
    # take the job over mid-render.
    task = asyncio.create_task(run_job(ctx, job.id))
    await asyncio.to_thread(backend.started.wait, 10)
    await asyncio.sleep(1.2)
    held = await row(sqlite_db, job.id)
    assert held.state is JobState.RUNNING and held.worker == ctx.worker
    assert held.lease_until is not None and held.lease_until > utcnow()
    await task
    assert (await row(sqlite_db, job.id)).state is JobState.DONE


async def test_a_stopping_worker_hands_its_job_back(sqlite_db: Database, blobs: BlobStore) -> None:
    backend = SlowBackend(frame_s=0.05)
    job = await make_job(sqlite_db, duration_s=25.0, fps=8)
    ctx = WorkerContext(
        db=sqlite_db, blobs=blobs, events=InProcessEvents(), backend=backend, owns_db=False
    )
    task = asyncio.create_task(run_job(ctx, job.id))
    await asyncio.to_thread(backend.started.wait, 10)
    task.cancel()  # what arq does to a running job once the grace period is over
    await asyncio.gather(task, return_exceptions=True)
    handed = await row(sqlite_db, job.id)
    assert handed.state is JobState.QUEUED and handed.worker is None
    assert handed.attempts == 0  # stopping on purpose is not the job's fault

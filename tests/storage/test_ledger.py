"""The worker's grouped bookkeeping, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import IntegrityError

from storage import jobs as job_rows
from storage.db import Database
from storage.ledger import Ledger, claim_batch, store_batch
from storage.models import JobState
from tests.factories import make_clip, make_job


async def state(db: Database, job_id: str) -> JobState:
    async with db.session() as session:
        return (await job_rows.get_job(session, job_id)).state


async def test_claims_in_one_batch_each_get_their_own_answer(any_db: Database) -> None:
    queued = await make_job(any_db)
    finished = await make_job(any_db, state=JobState.DONE)
    clip = await make_clip(any_db, finished)
    cancelled = await make_job(any_db, state=JobState.CANCELLED)
    ids = [queued.id, finished.id, cancelled.id, "missing", queued.id]
    first, done, stopped, missing, duplicate = await claim_batch(
        any_db, ids, worker="w1", lease_s=15
    )

    assert not isinstance(first, Exception) and first.claimed is not None
    assert first.claimed.job.id == queued.id and first.claimed.author == "@frogfan"
    assert not isinstance(done, Exception) and done.claimed is None
    assert done.existing is not None and done.existing.id == clip.id
    assert not isinstance(stopped, Exception) and (stopped.claimed, stopped.existing) == (
        None,
        None,
    )
    # A turn whose job does not exist passes on (fair share: it found nothing queued).
    assert not isinstance(missing, Exception) and (missing.claimed, missing.existing) == (
        None,
        None,
    )
    # The same job delivered twice in one batch runs once.
    assert not isinstance(duplicate, Exception) and duplicate.claimed is None
    assert await state(any_db, queued.id) is JobState.RUNNING


async def test_concurrent_claims_share_a_batch(any_db: Database) -> None:
    jobs = [await make_job(any_db) for _ in range(5)]
    ledger = Ledger.over(any_db, worker="w1", lease_s=15)
    starts = await asyncio.gather(*(ledger.claim(job.id) for job in jobs))
    assert all(start.claimed is not None for start in starts)
    assert {await state(any_db, job.id) for job in jobs} == {JobState.RUNNING}


async def test_a_clashing_clip_fails_alone_and_the_rest_are_stored(any_db: Database) -> None:
    ok, clashing = await make_job(any_db), await make_job(any_db)
    for job in (ok, clashing):
        async with any_db.transaction() as session:
            await job_rows.transition(session, job.id, JobState.RUNNING)
    await make_clip(any_db, clashing)  # it has its clip already
    stored, failed = await store_batch(
        any_db,
        [
            job_rows.clip_of(ok, blob_key="a", size_bytes=1, width=64, height=64, duration_s=1.0),
            job_rows.clip_of(
                clashing, blob_key="b", size_bytes=1, width=64, height=64, duration_s=1.0
            ),
        ],
    )
    assert not isinstance(stored, Exception) and stored.id is not None and stored.job_id == ok.id
    assert isinstance(failed, IntegrityError)
    assert await state(any_db, ok.id) is JobState.DONE

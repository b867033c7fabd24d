"""The job state machine (storage.jobs): the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from storage import jobs as job_rows
from storage.db import Database
from storage.errors import InvalidTransition, NotFound
from storage.models import Job, JobState
from tests.factories import make_job


async def state_of(db: Database, job_id: str) -> Job:
    async with db.session() as session:
        return await job_rows.get_job(session, job_id)


async def move(db: Database, job_id: str, target: JobState, **values: object) -> bool:
    async with db.transaction() as session:
        return await job_rows.transition(session, job_id, target, **values)


async def test_job_round_trips_with_aware_timestamps_and_json(any_db: Database) -> None:
    job = await make_job(any_db)
    stored = await state_of(any_db, job.id)
    assert stored.state is JobState.QUEUED and stored.attempts == 0
    assert stored.dialogue == [{"text": "ribbit", "speaker": None}]
    assert stored.created_at.tzinfo is not None


async def test_happy_path_queued_running_done(any_db: Database) -> None:
    job = await make_job(any_db)
    assert await move(any_db, job.id, JobState.RUNNING)
    running = await state_of(any_db, job.id)
    assert running.attempts == 1 and running.started_at is not None
    assert await move(any_db, job.id, JobState.DONE)
    done = await state_of(any_db, job.id)
    assert done.state is JobState.DONE and done.finished_at is not None


async def test_a_rerun_may_claim_a_running_job_and_counts_attempts(any_db: Database) -> None:
    job = await make_job(any_db)
    assert await move(any_db, job.id, JobState.RUNNING)
    assert await move(any_db, job.id, JobState.RUNNING)
    assert (await state_of(any_db, job.id)).attempts == 2


@pytest.mark.parametrize("final", [JobState.DONE, JobState.FAILED, JobState.CANCELLED])
async def test_finished_jobs_do_not_move(any_db: Database, final: JobState) -> None:
    job = await make_job(any_db)
    await move(any_db, job.id, JobState.RUNNING)
    assert await move(any_db, job.id, final, error="x" if final is JobState.FAILED else None)
    for target in (JobState.RUNNING, JobState.DONE, JobState.FAILED, JobState.CANCELLED):
        assert not await move(any_db, job.id, target)
    assert (await state_of(any_db, job.id)).state is final


async def test_queued_cannot_jump_to_done(any_db: Database) -> None:
    job = await make_job(any_db)
    assert not await move(any_db, job.id, JobState.DONE)
    assert (await state_of(any_db, job.id)).state is JobState.QUEUED


async def test_only_a_job_awaiting_consent_moves_to_queued(any_db: Database) -> None:
    job = await make_job(any_db)
    assert not await move(any_db, job.id, JobState.QUEUED)
    with pytest.raises(InvalidTransition):
        await move(any_db, job.id, JobState.AWAITING_CONSENT)
    with pytest.raises(NotFound):
        await move(any_db, "no-such-job", JobState.RUNNING)


async def test_failed_transaction_leaves_no_half_written_rows(any_db: Database) -> None:
    job = await make_job(any_db)
    with pytest.raises(RuntimeError):
        async with any_db.transaction() as session:
            await job_rows.transition(session, job.id, JobState.RUNNING)
            session.add(
                job_rows.clip_of(
                    job, blob_key="k", size_bytes=1, width=64, height=64, duration_s=1.0
                )
            )
            await session.flush()
            raise RuntimeError("crash between the clip row and the commit")
    assert (await state_of(any_db, job.id)).state is JobState.QUEUED
    async with any_db.session() as session:
        assert await job_rows.clips_for_jobs(session, [job.id]) == {}

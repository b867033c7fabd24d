"""Job state machine, people, deliveries: the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from storage import deliveries
from storage import jobs as job_rows
from storage.db import Database
from storage.errors import InvalidTransition, NotFound
from storage.models import Job, JobState
from storage.people import upsert_user
from tests.factories import make_clip, make_job


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


async def test_upsert_user_is_one_row_and_follows_renames(any_db: Database) -> None:
    async with any_db.transaction() as session:
        a = await upsert_user(session, platform="p", platform_user_id="1", display_name="A")
    async with any_db.transaction() as session:
        b = await upsert_user(
            session, platform="p", platform_user_id="1", display_name="B", username="bee"
        )
    assert a.id == b.id and (b.display_name, b.username) == ("B", "bee")


async def test_concurrent_first_messages_make_one_user(any_db: Database) -> None:
    async def first_message() -> int:
        async with any_db.transaction() as session:
            user = await upsert_user(
                session, platform="p", platform_user_id="same", display_name="Same"
            )
            assert user.id is not None
            return user.id

    ids = await asyncio.gather(*(first_message() for _ in range(5)))
    assert len(set(ids)) == 1


async def test_delivery_claim_is_exclusive_and_release_reopens_it(any_db: Database) -> None:
    job = await make_job(any_db)
    clip = await make_clip(any_db, job)
    assert clip.id is not None
    key = deliveries.Target(clip_id=clip.id, platform="test", platform_chat_id="c1")

    async def claim(by: str) -> bool:
        async with any_db.transaction() as session:
            return await deliveries.claim(session, key, claimant=by)

    assert await claim("bot-a")
    assert not await claim("bot-a")  # the same process does not post twice
    async with any_db.transaction() as session:
        await deliveries.release(session, key)
    assert await claim("bot-a")
    # A restarted bot (another claimant) may take over a claim that never got to SENT...
    assert await claim("bot-b")
    async with any_db.transaction() as session:
        await deliveries.mark_sent(session, key, message_id="m9")
    # ...but nobody posts a SENT clip again.
    assert not await claim("bot-c")
    async with any_db.session() as session:
        found = await deliveries.clip_at_message(
            session, platform="test", platform_chat_id="c1", message_id="m9"
        )
        assert found is not None and found.id == clip.id
        assert await deliveries.sent_count(session, clip.id) == 1


async def test_claim_many_claims_each_target_once(any_db: Database) -> None:
    job = await make_job(any_db)
    clip = await make_clip(any_db, job)
    assert clip.id is not None
    a = deliveries.Target(clip.id, "test", "c1")
    b = deliveries.Target(clip.id, "test", "c2")
    async with any_db.transaction() as session:
        assert await deliveries.claim_many(session, [a, b, a], claimant="bot") == [
            True,
            True,
            False,
        ]
    async with any_db.transaction() as session:
        await deliveries.mark_sent_many(session, [(a, "m1")])
    async with any_db.transaction() as session:
        # a is sent: nobody again; b is mid-upload by "bot": another process may take it over.
        assert await deliveries.claim_many(session, [a, b], claimant="bot-2") == [False, True]

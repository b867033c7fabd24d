"""The event pump (bot.events): events for unknown jobs ignored, a batch read with stale progress
skipped and everything acknowledged; and the sweeps that keep a job from being lost: resuming
unfinished jobs, requeueing jobs the queue could not take, posting clips whose event was lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from bot.replies import Queued
from engine.events import JobEvent
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Job, JobState, utcnow
from tests.bot.harness import Bot, done, finish, jobs, make_bot, sora, until


async def test_event_for_an_unknown_job_is_ignored(bot: Bot) -> None:
    await bot.core.on_event(JobEvent(job_id="nope", kind="done", clip_id=1))
    assert bot.port.sent == []


async def test_resume_hands_unfinished_jobs_to_the_queue_again(bot: Bot) -> None:
    a = await bot.core.handle(sora("one", who=1))
    b = await bot.core.handle(sora("two", who=2))
    c = await bot.core.handle(sora("three", who=3))
    assert isinstance(a, Queued) and isinstance(b, Queued) and isinstance(c, Queued)
    await finish(bot, a.job_id)
    async with bot.db.transaction() as session:
        await job_rows.transition(session, b.job_id, JobState.RUNNING)
    restarted = make_bot(bot.db, bot.blobs)  # a new process: its queue starts empty
    assert await restarted.core.resume() == 2
    assert restarted.queue.enqueued == [b.job_id, c.job_id]


async def test_a_batch_of_events_skips_stale_progress_and_acks_everything(bot: Bot) -> None:
    from engine.channels import InProcessEvents

    first = await bot.core.handle(sora("one", who=1))
    second = await bot.core.handle(sora("two", who=2))
    assert isinstance(first, Queued) and isinstance(second, Queued)
    clip = await finish(bot, first.job_id)
    events = InProcessEvents()
    for event in (
        JobEvent(job_id=first.job_id, kind="started"),
        JobEvent(job_id=second.job_id, kind="progress", stage="rendering", fraction=0.2),
        JobEvent(job_id=first.job_id, kind="progress", stage="rendering", fraction=0.5),
        JobEvent(job_id=second.job_id, kind="progress", stage="encoding", fraction=0.8),
        JobEvent(job_id=first.job_id, kind="done", clip_id=clip.id),
    ):
        await events.publish(event)
    consumer = asyncio.create_task(bot.core.run_events(events))
    async with asyncio.timeout(10):
        while not bot.port.of("clip") or events.unacked:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    consumer.cancel()
    # The first job's progress was stale by the time its clip was ready: no edit for it; the
    # second job shows its newest progress only.
    edits = [(e.message_id, e.reply.percent) for e in bot.port.of("edit")]
    second_status = bot.port.of("post")[1].message_id
    assert edits == [(second_status, 80)]
    assert len(bot.port.of("clip")) == 1


async def test_jobs_recorded_while_the_queue_is_unreachable_go_out_when_it_answers(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs)
    bot.queue.unreachable = True
    queued = await bot.core.handle(sora("a frog in a storm", who=1))
    assert isinstance(queued, Queued)  # the person's command is answered all the same
    [job] = await jobs(bot.db)
    assert job.state is JobState.QUEUED and bot.queue.enqueued == []
    bot.queue.unreachable = False
    async with bot.db.transaction() as session:  # the newest are left to their own command
        await session.exec(update(Job).values(created_at=utcnow() - timedelta(minutes=1)))
    requeue = asyncio.create_task(bot.core.run_requeue(every_s=0.01))
    try:
        await until(lambda: bot.queue.enqueued)
    finally:
        requeue.cancel()
    assert bot.queue.enqueued == [queued.job_id]


async def test_a_clip_whose_done_event_was_lost_is_posted_once(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs)
    job_id, clip_id = await done(bot, "a frog", who=1)
    await done(bot, "a fresh frog", who=2)
    async with bot.db.transaction() as session:
        await session.exec(
            update(Job)
            .where(Job.id == job_id)  # type: ignore[arg-type]
            .values(finished_at=utcnow() - timedelta(minutes=2))
        )
    await bot.core.events.post_unposted()
    await bot.core.events.post_unposted()
    [posted] = bot.port.of("clip")
    assert posted.reply.clip_id == clip_id  # the one just finished still has its event coming

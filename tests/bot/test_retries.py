"""Nothing lost, stalled or posted twice, in the core: posts that keep failing are retried per
job without holding others up, a bot that died mid-upload does not post again blindly, jobs
recorded while the queue is unreachable go out once it answers, and clips whose done event was
lost are posted anyway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update

from bot.commands import Repost
from bot.ports import Capabilities, PlatformBusy
from bot.replies import ClipReady, Failed, Note, Queued
from bot.retries import delay_before
from engine.channels import InProcessEvents
from engine.events import JobEvent
from storage import deliveries
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Job, JobState, utcnow
from tests.bot.harness import Bot, finish, jobs, make_bot, sora
from tests.fakes import CHAT, message, person


async def until(condition: Callable[[], object], timeout_s: float = 5) -> None:
    """Wait for `condition` to hold: the recording port and queue have no event to wait on."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def done(bot: Bot, prompt: str, who: int) -> tuple[str, int]:
    queued = await bot.core.handle(sora(prompt, who=who, msg=f"m-{prompt}"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id)
    assert clip.id is not None
    return queued.job_id, clip.id


def test_a_platforms_retry_after_is_honoured_when_longer() -> None:
    assert delay_before(0, RuntimeError()) == 1.0
    assert delay_before(0, PlatformBusy(retry_after_s=7)) == 7.0
    assert delay_before(5, PlatformBusy(retry_after_s=7)) == 60.0
    assert delay_before(99, RuntimeError()) == 300.0


async def test_a_failing_post_is_retried_alone_and_others_go_on(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs)
    bot.core.events.retries.delays = (0.2, 0.2, 0.2)
    stuck_job, _ = await done(bot, "a stuck frog", who=1)
    free_job, free_clip = await done(bot, "a free frog", who=2)
    bot.port.fail_clip_uploads = 2  # the first post and its first retry fail
    events = InProcessEvents()
    await events.publish(JobEvent(job_id=stuck_job, kind="done"))
    consumer = asyncio.create_task(bot.core.run_events(events))
    try:
        await until(lambda: bot.port.of("clip"))
        # The failed post is in its retries; a later job's clip goes up meanwhile.
        await events.publish(JobEvent(job_id=free_job, kind="done", clip_id=free_clip))
        await until(lambda: len(bot.port.of("clip")) >= 2)
    finally:
        await bot.core.stop_events(consumer)
    posted = [sent.reply.job_id for sent in bot.port.of("clip")]
    assert sorted(posted) == sorted([stuck_job, free_job])
    assert events.unacked == 0


async def test_a_post_refused_for_good_tells_the_person(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs)
    bot.core.events.retries.delays = (0.01, 0.01)
    job_id, _ = await done(bot, "a doomed frog", who=1)
    bot.port.fail_clip_uploads = 10
    events = InProcessEvents()
    await events.publish(JobEvent(job_id=job_id, kind="done"))
    consumer = asyncio.create_task(bot.core.run_events(events))
    try:
        await until(lambda: any(isinstance(r, Failed) for r in bot.port.replies()))
    finally:
        await bot.core.stop_events(consumer)
    [failed] = [r for r in bot.port.replies() if isinstance(r, Failed)]
    assert "kept refusing" in failed.reason
    assert bot.port.of("clip") == []
    assert events.unacked == 0


async def claimed_by_a_dead_bot(bot: Bot, clip_id: int) -> None:
    async with bot.db.transaction() as session:
        target = deliveries.Target(clip_id, CHAT.platform, CHAT.chat_id)
        assert await deliveries.claim(session, target, claimant="a bot that died mid-upload")


async def test_a_dead_bots_upload_is_found_where_the_platform_can_be_searched(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs)
    bot.port.capabilities = Capabilities(finds_clips=True)
    job_id, clip_id = await done(bot, "a frog", who=1)
    # The earlier bot's upload went through before it died: the platform shows the clip.
    await bot.core.on_event(JobEvent(job_id=job_id, kind="done", clip_id=clip_id))
    assert len(bot.port.of("clip")) == 1
    async with bot.db.transaction() as session:
        await session.exec(update(deliveries.DELIVERIES).values(state="SENDING", claimed_by="x"))
    await bot.core.on_event(JobEvent(job_id=job_id, kind="done", clip_id=clip_id))
    assert len(bot.port.of("clip")) == 1  # found, not posted again
    async with bot.db.session() as session:
        assert await deliveries.sent_count(session, clip_id) == 1


async def test_where_it_cannot_be_searched_the_clip_waits_for_a_repost(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs)
    bot.port.capabilities = Capabilities(finds_clips=False)
    job_id, clip_id = await done(bot, "a frog", who=1)
    await claimed_by_a_dead_bot(bot, clip_id)
    await bot.core.on_event(JobEvent(job_id=job_id, kind="done", clip_id=clip_id))
    assert bot.port.of("clip") == []
    [note] = [r for r in bot.port.replies() if isinstance(r, Note) and "/repost" in r.text]
    assert f"/repost {clip_id}" in note.text

    # The event again (a replay) posts nothing; /repost does, once.
    await bot.core.on_event(JobEvent(job_id=job_id, kind="done", clip_id=clip_id))
    assert bot.port.of("clip") == []
    ask = Repost(author=person(2), chat=CHAT, clip_id=clip_id, message=message("r"))
    await bot.core.handle(ask)
    await bot.core.handle(ask)
    [posted] = bot.port.of("clip")
    assert isinstance(posted.reply, ClipReady) and posted.reply.clip_id == clip_id
    assert "already posted" in bot.port.replies()[-1].text
    nothing = await bot.core.handle(Repost(author=person(2), chat=CHAT, clip_id=999_999))
    assert "don't know clip #999999" in nothing.text


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

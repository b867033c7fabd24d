"""Posting a finished clip again after a failure (bot.retries): the wait a platform asks for is
honoured, posts that keep failing are retried per job without holding others up, and a post
refused for good is told to the person."""

from __future__ import annotations

import asyncio

from bot.ports import PlatformBusy
from bot.replies import Failed
from bot.retries import delay_before
from engine.channels import InProcessEvents
from engine.events import JobEvent
from storage.blobs import BlobStore
from storage.db import Database
from tests.bot.harness import done, make_bot, until


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

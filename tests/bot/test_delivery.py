"""Job events turned into chat replies (bot.delivery): progress edits at a sane rate, the clip
posted once in reply to its command, failures told; clips over a platform's limit fitted;
and an upload a dead bot left unsure found on the platform or left to /repost."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.commands import Repost
from bot.ports import Capabilities
from bot.replies import ClipReady, Failed, Note, Progress, Queued
from engine.events import JobEvent
from engine.queue import FIT_CLIP
from storage import deliveries
from storage.blobs import BlobStore
from storage.db import Database
from tests.bot.harness import Bot, done, finish, make_bot, sora
from tests.fakes import CHAT, EngineLight, message, person


async def test_progress_edits_the_status_message_at_a_sane_rate(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    status_id = bot.port.of("post")[0].message_id
    for i in range(0, 101):
        await bot.core.on_event(
            JobEvent(job_id=queued.job_id, kind="progress", stage="rendering", fraction=i / 100)
        )
    edits = bot.port.of("edit")
    assert edits and all(e.message_id == status_id for e in edits)
    percents = [e.reply.percent for e in edits]
    assert all(isinstance(e.reply, Progress) for e in edits)
    assert percents == sorted(percents) and len(percents) <= 21
    assert percents[0] == 0 and percents[-1] >= 95


async def test_done_posts_the_clip_once_in_reply_and_retires_the_status(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id)
    done = JobEvent(job_id=queued.job_id, kind="done", clip_id=clip.id)
    await bot.core.on_event(done)
    await bot.core.on_event(done)  # the channel delivered it again
    [posted] = bot.port.of("clip")
    assert isinstance(posted.reply, ClipReady) and posted.reply.clip_id == clip.id
    assert posted.reply_to == message("m1")
    assert posted.video == await bot.blobs.read(clip.blob_key)
    assert [d.message_id for d in bot.port.of("delete")] == [bot.port.of("post")[0].message_id]
    async with bot.db.session() as session:
        assert clip.id is not None
        assert await deliveries.sent_count(session, clip.id) == 1


async def test_a_failed_upload_is_released_and_can_be_posted_later(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id)
    bot.port.fail_clip_uploads = 1
    with pytest.raises(ConnectionError):
        await bot.core.on_event(JobEvent(job_id=queued.job_id, kind="done", clip_id=clip.id))
    assert bot.port.of("clip") == []
    await bot.core.on_event(JobEvent(job_id=queued.job_id, kind="done", clip_id=clip.id))
    assert len(bot.port.of("clip")) == 1


async def test_failed_event_tells_the_person_why(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    await bot.core.on_event(
        JobEvent(job_id=queued.job_id, kind="failed", error="The frog refused to dance.")
    )
    [edit] = bot.port.of("edit")
    assert isinstance(edit.reply, Failed)
    assert edit.reply.text == "⚠️ The frog refused to dance."


@pytest.fixture(scope="module")
def real_mp4() -> bytes:
    from engine.backends import load_backend
    from engine.pipeline import generate
    from tests.engine.factories import small_request

    return generate(small_request(duration_s=2.0), load_backend("sketch")).data


async def test_a_clip_over_the_platform_limit_is_fitted_before_sending(
    sqlite_db: Database, blobs: BlobStore, real_mp4: bytes
) -> None:
    bot = make_bot(sqlite_db, blobs, light=EngineLight.over(sqlite_db, blobs, FIT_CLIP))
    bot.port.capabilities = Capabilities(max_upload_bytes=len(real_mp4) * 8 // 10)
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id, data=real_mp4)
    await bot.core.on_event(JobEvent(job_id=queued.job_id, kind="done", clip_id=clip.id))
    [posted] = bot.port.of("clip")
    assert posted.video is not None and len(posted.video) <= len(real_mp4) * 8 // 10
    assert posted.reply.size_bytes == len(posted.video)


async def test_a_413_from_the_platform_means_smaller_and_again(
    sqlite_db: Database, blobs: BlobStore, real_mp4: bytes
) -> None:
    bot = make_bot(sqlite_db, blobs, light=EngineLight.over(sqlite_db, blobs, FIT_CLIP))
    bot.port.refuse_as_too_large = 1
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id, data=real_mp4)
    await bot.core.on_event(JobEvent(job_id=queued.job_id, kind="done", clip_id=clip.id))
    [posted] = bot.port.of("clip")
    assert posted.video is not None and len(posted.video) < len(await bot.blobs.read(clip.blob_key))


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

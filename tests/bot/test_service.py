"""The core with a recording chat port, a real database and a recording queue."""

from __future__ import annotations

import asyncio

import pytest

from bot.commands import DeleteClip, Help, Remix, Reroll, Unknown
from bot.ports import Capabilities
from bot.replies import ClipReady, Deleted, Failed, Progress, Queued, Refused, Usage
from engine.events import JobEvent
from engine.queue import FIT_CLIP
from storage import deliveries
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Clip, JobState
from tests.bot.harness import Bot, finish, jobs, make_bot, sora
from tests.fakes import CHAT, EngineLight, message, person

# Usage and bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t "])
async def test_empty_prompt_gets_usage_help_and_records_nothing(bot: Bot, prompt: str) -> None:
    reply = await bot.core.handle(sora(prompt))
    assert isinstance(reply, Usage)
    assert "/sora" in reply.text and "Tell me what should happen" in reply.text
    assert bot.port.of("post")[0].reply_to == message("m1")
    assert await jobs(bot.db) == [] and bot.queue.enqueued == []


async def test_too_long_prompt_is_refused_with_the_numbers(bot: Bot) -> None:
    reply = await bot.core.handle(sora("x" * 10_000))
    assert isinstance(reply, Refused)
    assert "10,000" in reply.text and "1,000" in reply.text
    assert await jobs(bot.db) == [] and bot.queue.enqueued == []


async def test_control_characters_are_refused(bot: Bot) -> None:
    reply = await bot.core.handle(sora("a cat\x00 with a \x1b[31m hat"))
    assert isinstance(reply, Refused) and "control characters" in reply.text
    assert await jobs(bot.db) == []


async def test_unknown_command_and_help_get_usage(bot: Bot) -> None:
    unknown = await bot.core.handle(Unknown(name="dance", author=person(), chat=CHAT))
    assert isinstance(unknown, Usage) and "I don't know /dance" in unknown.text
    helped = await bot.core.handle(Help(author=person(), chat=CHAT))
    assert isinstance(helped, Usage) and helped.text.startswith("Usage: /sora")


async def test_configured_command_name_shows_in_help(sqlite_db: Database, blobs: BlobStore) -> None:
    bot = make_bot(sqlite_db, blobs, command="clip")
    reply = await bot.core.handle(Help(author=person(), chat=CHAT))
    assert "/clip <what should happen>" in reply.text


# Queueing --------------------------------------------------------------------------------------


async def test_generate_records_job_posts_status_and_enqueues_once(bot: Bot) -> None:
    reply = await bot.core.handle(sora('a cat says "hello" to @person2'))
    assert isinstance(reply, Queued) and reply.position == 0
    [job] = await jobs(bot.db)
    assert job.state is JobState.QUEUED and job.id == reply.job_id
    assert job.prompt == 'a cat says "hello" to @person2'
    assert job.dialogue == [{"text": "hello", "speaker": None}]
    assert job.request_message_id == "m1"
    [status] = bot.port.of("post")
    assert status.reply == reply and status.reply_to == message("m1")
    assert job.status_message_id == status.message_id
    assert bot.queue.enqueued == [job.id]


async def test_queue_position_counts_jobs_ahead(bot: Bot) -> None:
    first = await bot.core.handle(sora("one", who=1))
    second = await bot.core.handle(sora("two", who=2))
    assert isinstance(first, Queued) and isinstance(second, Queued)
    assert (first.position, second.position) == (0, 1)
    assert "(1st in line)" in second.text


async def test_cap_on_jobs_in_flight_per_user(bot: Bot) -> None:
    a = await bot.core.handle(sora("one"))
    b = await bot.core.handle(sora("two"))
    third = await bot.core.handle(sora("three"))
    assert isinstance(a, Queued) and isinstance(b, Queued)
    assert isinstance(third, Refused) and "2 clips cooking" in third.text
    assert len(await jobs(bot.db)) == 2
    # Someone else is not affected, and a finished job frees a slot.
    assert isinstance(await bot.core.handle(sora("other person", who=2)), Queued)
    await finish(bot, a.job_id)
    assert isinstance(await bot.core.handle(sora("four")), Queued)


async def test_queue_down_fails_the_job_and_tells_the_person(bot: Bot) -> None:
    bot.queue.broken = True
    reply = await bot.core.handle(sora("a dog"))
    assert isinstance(reply, Refused) and "unavailable" in reply.text
    [job] = await jobs(bot.db)
    assert job.state is JobState.FAILED and job.error and "unavailable" in job.error
    assert isinstance(bot.port.replies()[-1], Refused)


# Remix -----------------------------------------------------------------------------------------


async def deliver(bot: Bot, clip: Clip, message_id: str) -> None:
    async with bot.db.transaction() as session:
        assert clip.id is not None
        target = deliveries.Target(clip.id, CHAT.platform, CHAT.chat_id)
        assert await deliveries.claim(session, target, claimant="an earlier bot")
        await deliveries.mark_sent(session, target, message_id=message_id)


async def test_reply_to_a_clip_is_a_remix_with_lineage(bot: Bot) -> None:
    parent_reply = await bot.core.handle(sora('a cat says "hello"', who=1))
    assert isinstance(parent_reply, Queued)
    parent = await finish(bot, parent_reply.job_id)
    await deliver(bot, parent, "clip-msg")

    remix = await bot.core.handle(sora("make it rain", who=2, msg="m2", reply_to="clip-msg"))
    assert isinstance(remix, Queued) and remix.remix_of == parent.id
    assert remix.text.startswith("🎬 Remixing")
    job = next(j for j in await jobs(bot.db) if j.id == remix.job_id)
    assert job.parent_clip_id == parent.id
    assert job.seed == parent.seed
    assert job.prompt.startswith('a cat says "hello"') and job.prompt.endswith("make it rain")

    grandchild = await finish(bot, remix.job_id)
    assert grandchild.parent_id == parent.id


async def test_reply_to_an_ordinary_message_is_a_plain_generate(bot: Bot) -> None:
    reply = await bot.core.handle(sora("a frog", reply_to="just-chat"))
    assert isinstance(reply, Queued) and reply.remix_of is None


async def test_remix_by_id_and_of_a_deleted_clip(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id)
    assert clip.id is not None
    remix = await bot.core.handle(
        Remix(prompt="in space", author=person(2), chat=CHAT, parent_clip_id=clip.id)
    )
    assert isinstance(remix, Queued) and remix.remix_of == clip.id
    async with bot.db.transaction() as session:
        row = await session.get(Clip, clip.id)
        assert row is not None
        row.deleted = True
        session.add(row)
    refused = await bot.core.handle(
        Remix(prompt="again", author=person(3), chat=CHAT, parent_clip_id=clip.id)
    )
    assert isinstance(refused, Refused) and "deleted" in refused.text
    missing = await bot.core.handle(
        Remix(prompt="x", author=person(3), chat=CHAT, parent_clip_id=99_999)
    )
    assert isinstance(missing, Refused)


# Events → replies ------------------------------------------------------------------------------


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


async def test_reroll_keeps_the_prompt_and_dialogue_with_a_new_seed(bot: Bot) -> None:
    queued = await bot.core.handle(sora('a cat says "hello"'))
    assert isinstance(queued, Queued)
    parent = await finish(bot, queued.job_id)
    assert parent.id is not None
    reroll = await bot.core.handle(Reroll(author=person(2), chat=CHAT, parent_clip_id=parent.id))
    assert isinstance(reroll, Queued) and reroll.remix_of == parent.id
    job = next(j for j in await jobs(bot.db) if j.id == reroll.job_id)
    assert job.prompt == parent.prompt and job.seed != parent.seed
    assert job.dialogue == [{"text": "hello", "speaker": None}]


async def test_remix_keeps_the_parents_dialogue_and_adds_its_own(bot: Bot) -> None:
    queued = await bot.core.handle(sora('Cat: "hello"'))
    assert isinstance(queued, Queued)
    parent = await finish(bot, queued.job_id)
    assert parent.id is not None
    remix = await bot.core.handle(
        Remix(prompt='Dog: "woof"', author=person(2), chat=CHAT, parent_clip_id=parent.id)
    )
    assert isinstance(remix, Queued)
    job = next(j for j in await jobs(bot.db) if j.id == remix.job_id)
    assert [d["speaker"] for d in job.dialogue] == ["Cat", "Dog"]


async def test_only_the_author_may_delete_and_the_clip_goes_everywhere(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id)
    assert clip.id is not None
    await bot.core.on_event(JobEvent(job_id=queued.job_id, kind="done", clip_id=clip.id))
    [posted] = bot.port.of("clip")

    refused = await bot.core.handle(DeleteClip(author=person(2), chat=CHAT, clip_id=clip.id))
    assert isinstance(refused, Refused) and "Only the person who made" in refused.text
    assert await bot.blobs.exists(clip.blob_key)

    deleted = await bot.core.handle(DeleteClip(author=person(1), chat=CHAT, clip_id=clip.id))
    assert isinstance(deleted, Deleted) and deleted.clip_id == clip.id
    assert posted.message_id in [d.message_id for d in bot.port.of("delete")]
    assert not await bot.blobs.exists(clip.blob_key)
    async with bot.db.session() as session:
        row = await session.get(Clip, clip.id)
        assert row is not None and row.deleted
    again = await bot.core.handle(DeleteClip(author=person(1), chat=CHAT, clip_id=clip.id))
    assert isinstance(again, Refused) and "already gone" in again.text
    # Nothing of the deletion was posted into the chat: the adapter shows it to the presser.
    assert not any(isinstance(s.reply, (Deleted, Refused)) for s in bot.port.of("post"))


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

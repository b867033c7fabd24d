"""Cancel on a clip's status message, through the core (bot.cancel): who may (the requester, an
admin of that chat), what the requester is told, and a clip that already finished."""

from __future__ import annotations

from bot.admin_commands import CancelJob
from bot.replies import Failed, Note, Queued, Refused
from bot.types import ChatRef
from storage import jobs as job_rows
from storage.models import Job, JobState
from tests.bot.harness import Bot, sora, start
from tests.fakes import CHAT, person


async def test_the_requester_cancels_a_queued_clip_and_nothing_is_posted(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued) and [c.label for c in queued.choices] == ["✖️ Cancel"]
    answer = await bot.core.handle(CancelJob(queued.job_id, person(1), CHAT))
    assert answer == Note("✖️ Cancelled.")
    async with bot.db.session() as session:
        job = await session.get(Job, queued.job_id)
    assert job is not None and job.state is JobState.CANCELLED
    told = [s for s in bot.port.sent if isinstance(s.reply, Failed)]
    assert [s.action for s in told] == ["edit"] and "cancelled" in told[0].reply.reason
    assert not [s for s in bot.port.sent if s.action == "clip"]


async def test_someone_elses_cancel_is_refused(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued)
    answer = await bot.core.handle(CancelJob(queued.job_id, person(2), CHAT))
    assert isinstance(answer, Refused)
    assert "Only @person1 or an admin of this chat can cancel" in answer.text
    async with bot.db.session() as session:
        assert await job_rows.state_of(session, queued.job_id) is JobState.QUEUED


async def test_a_cancel_after_the_clip_is_done_says_so(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued)
    await start(bot.db, queued.job_id)
    async with bot.db.transaction() as session:
        await job_rows.transition(session, queued.job_id, JobState.DONE)
    answer = await bot.core.handle(CancelJob(queued.job_id, person(1), CHAT))
    assert answer == Refused("That clip already finished.")


async def test_an_admin_of_the_chat_cancels_anyones_clip_there_not_elsewhere(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued)
    elsewhere = ChatRef(platform=CHAT.platform, chat_id="another-room")
    refused = await bot.core.handle(CancelJob(queued.job_id, person(2), elsewhere, is_admin=True))
    assert isinstance(refused, Refused)
    answer = await bot.core.handle(CancelJob(queued.job_id, person(2), CHAT, is_admin=True))
    assert answer == Note("✖️ Cancelled.")
    told = [s.reply for s in bot.port.sent if isinstance(s.reply, Failed)]
    assert [t.reason for t in told] == ["An admin of this chat cancelled this clip."]

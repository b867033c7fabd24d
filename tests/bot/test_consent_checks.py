"""Whether each cameo use is allowed, through the core: the plan when the command comes (the
audience, the owner's own use, chats, remixes), the re-check before a clip is posted, and the
unfinished jobs reconsidered when an owner takes a grant back.

The people and steps are tests.bot.cameo_harness."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.commands import Remix
from bot.replies import Failed, Note, Queued, Refused
from engine.events import JobEvent
from storage.models import ApprovalState, Clip, Job, JobCameo, JobState
from tests.bot.cameo_harness import (
    CAROL,
    OTHER_ROOM,
    cameo,
    cameo_core,
    consent_request,
    make_cameo,
    press,
    sora,
    the_job,
)
from tests.bot.cameo_harness import clip_with_alice as _clip_with_alice
from tests.bot.harness import Bot, finish
from tests.fakes import CHAT, message

bot = pytest.fixture(cameo_core, name="bot")


@pytest.mark.parametrize(
    ("audience", "expected"), [("everyone", Queued), ("only_me", Refused), ("approved", Note)]
)
async def test_audience_decides_between_queue_refusal_and_asking(
    bot: Bot, audience: str, expected: type
) -> None:
    await make_cameo(bot, 1, audience=audience)
    reply = await bot.core.handle(sora("@Person1 rides a llama"))  # any case matches
    assert isinstance(reply, expected)
    async with bot.db.session() as session:
        recorded = (await session.exec(select(Job))).all()
    assert len(recorded) == (0 if expected is Refused else 1)  # a refusal records nothing


async def test_the_owner_uses_their_own_cameo_freely(bot: Bot) -> None:
    await make_cameo(bot, 1, audience="only_me")
    assert isinstance(await bot.core.handle(sora("@person1 as a wizard", who=1)), Queued)


async def test_a_cameo_limited_to_a_chat_is_refused_elsewhere(bot: Bot) -> None:
    await make_cameo(bot, 1, audience="everyone")
    await bot.core.handle(cameo(1, "here", chat=CHAT))
    assert isinstance(await bot.core.handle(sora("@person1 here")), Queued)
    elsewhere = await bot.core.handle(sora("@person1 there", chat=OTHER_ROOM))
    assert isinstance(elsewhere, Refused) and "this chat" in elsewhere.text


async def test_revoking_a_grant_cancels_a_queued_job(bot: Bot) -> None:
    await make_cameo(bot, 1)
    await bot.core.handle(sora("@person1 first"))
    _, approval = consent_request(bot, 1)
    await bot.core.handle(press(bot, approval, "always"))
    await bot.core.handle(sora("@person1 second, allowed by the grant"))
    second = await the_job(bot)
    assert second.state is JobState.QUEUED
    reply = await bot.core.handle(cameo(1, "revoke @person2"))
    assert isinstance(reply, Note) and "1 unfinished clip" in reply.text
    async with bot.db.session() as session:
        states = {j.id: j.state for j in (await session.exec(select(Job))).all()}
    # The once-approved first job stays (approved people are still asked, and it was asked);
    # the second one only had the grant.
    assert states[second.id] is JobState.CANCELLED
    assert list(states.values()).count(JobState.QUEUED) == 1


async def test_consent_withdrawn_after_rendering_means_the_clip_is_never_posted(
    bot: Bot,
) -> None:
    await make_cameo(bot, 1)
    await bot.core.handle(sora("@person1 moonwalks"))
    _, approval = consent_request(bot, 1)
    await bot.core.handle(press(bot, approval, "approve"))
    job = await the_job(bot)
    clip = await finish(bot, job.id)  # rendered...
    await bot.core.handle(cameo(1, "audience only_me"))  # ...then the owner changes their mind
    await bot.core.on_event(JobEvent(job_id=job.id, kind="done", clip_id=clip.id))
    assert bot.port.of("clip") == []
    assert not await bot.blobs.exists(clip.blob_key)
    async with bot.db.session() as session:
        assert (await session.get(Clip, clip.id)).deleted  # type: ignore[union-attr]
        use = (await session.exec(select(JobCameo))).one()
    assert use.state is ApprovalState.REVOKED
    told = [s.reply for s in bot.port.sent if isinstance(s.reply, Failed)]
    assert "no longer allows" in told[-1].reason


async def test_a_remix_by_someone_not_allowed_is_refused(bot: Bot) -> None:
    clip = await _clip_with_alice(bot, "only_me")
    assert clip.id is not None
    remix = Remix("now on Mars", CAROL, CHAT, parent_clip_id=clip.id, message=message("r"))
    reply = await bot.core.handle(remix)
    assert isinstance(reply, Refused) and "can't remix this clip" in reply.text

"""The consent conversation through the core (bot.approvals): a cameo owner asked in a DM,
their answer (once, always, no) and who may give it, an owner who can't be messaged, a request
nobody answers, and the owner told when a clip with them is up.

The chat platform is the recording port; the database, the blob store and the face model are
real. The people and steps are tests.bot.cameo_harness.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.commands import DeleteClip, Remix
from bot.ports import Capabilities
from bot.replies import ClipReady, Deleted, Failed, Note, Queued, Refused
from engine.events import JobEvent
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import CameoGrant, Job, JobState
from tests.bot.cameo_harness import (
    ALICE,
    CAROL,
    cameo_core,
    consent_request,
    make_cameo,
    press,
    sora,
    the_job,
)
from tests.bot.cameo_harness import clip_with_alice as _clip_with_alice
from tests.bot.harness import Bot, finish, make_bot
from tests.fakes import CHAT, dm_chat, message

bot = pytest.fixture(cameo_core, name="bot")


async def test_a_mention_waits_for_the_owner_who_approves_once(bot: Bot) -> None:
    await make_cameo(bot, 1)
    reply = await bot.core.handle(sora("@person1 juggles flaming pizzas"))
    assert isinstance(reply, Note) and "Waiting for @person1" in reply.text
    job = await the_job(bot)
    assert job.state is JobState.AWAITING_CONSENT and bot.queue.enqueued == []

    note, approval = consent_request(bot, 1)
    assert "@person2" in note.text and "juggles flaming pizzas" in note.text
    assert [c.button.action for c in note.choices] == ["approve", "always", "deny"]

    # Someone else pressing the owner's button is refused and changes nothing.
    intruder = await bot.core.handle(press(bot, approval, "approve", who=3))
    assert isinstance(intruder, Refused) and "Only @person1" in intruder.text
    assert (await the_job(bot)).state is JobState.AWAITING_CONSENT

    answered = await bot.core.handle(press(bot, approval, "approve"))
    assert isinstance(answered, Note) and "approved this once" in answered.text
    assert (await the_job(bot)).state is JobState.QUEUED
    assert bot.queue.enqueued == [job.id]
    assert isinstance(bot.port.of("edit")[-1].reply, Queued)  # the requester sees it move
    # A second press on the same request does nothing more.
    again = await bot.core.handle(press(bot, approval, "deny"))
    assert isinstance(again, Note) and "already closed" in again.text
    assert (await the_job(bot)).state is JobState.QUEUED


async def test_always_allow_lets_the_next_request_straight_through(bot: Bot) -> None:
    await make_cameo(bot, 1)
    await bot.core.handle(sora("@person1 surfs a giant taco"))
    _, approval = consent_request(bot, 1)
    await bot.core.handle(press(bot, approval, "always"))
    async with bot.db.session() as session:
        assert len((await session.exec(select(CameoGrant))).all()) == 1
    second = await bot.core.handle(sora("@person1 again, on a bigger taco"))
    assert isinstance(second, Queued)
    assert len(bot.queue.enqueued) == 2
    # ...but not for someone else.
    third = await bot.core.handle(sora("@person1 for Carol", who=3))
    assert isinstance(third, Note) and "Waiting" in third.text


async def test_deny_cancels_and_tells_the_requester(bot: Bot) -> None:
    await make_cameo(bot, 1)
    await bot.core.handle(sora("@person1 eats a lemon"))
    _, approval = consent_request(bot, 1)
    await bot.core.handle(press(bot, approval, "deny"))
    assert (await the_job(bot)).state is JobState.CANCELLED
    assert bot.queue.enqueued == []
    told = [s.reply for s in bot.port.of("edit") if s.chat == CHAT][-1]
    assert isinstance(told, Failed) and "@person1 said no" in told.reason
    owner_side = [s.reply for s in bot.port.of("edit") if s.chat.chat_id == dm_chat(ALICE).chat_id][
        -1
    ]
    assert "You said no" in owner_side.text and not owner_side.choices


async def test_an_owner_who_cannot_be_messaged_means_no_clip(bot: Bot) -> None:
    await make_cameo(bot, 1)
    bot.port.no_dms.add("u1")
    reply = await bot.core.handle(sora("@person1 sings opera"))
    assert isinstance(reply, Refused) and "can't send @person1 a direct message" in reply.text
    assert (await the_job(bot)).state is JobState.CANCELLED
    assert bot.queue.enqueued == []


async def test_an_unanswered_request_expires(bot: Bot) -> None:
    await make_cameo(bot, 1)
    await bot.core.handle(sora("@person1 naps on a cloud"))
    job = await the_job(bot)
    assert await bot.core.expire_consents() == 0  # not yet
    async with bot.db.transaction() as session:
        await session.exec(
            update(Job)
            .where(Job.id == job.id)  # type: ignore[arg-type]
            .values(created_at=job.created_at - timedelta(minutes=31))
        )
    assert await bot.core.expire_consents() == 1
    assert (await the_job(bot)).state is JobState.CANCELLED
    told = [s.reply for s in bot.port.sent if isinstance(s.reply, Failed)]
    assert told and "didn't answer within 30 minutes" in told[-1].reason
    _, approval = consent_request(bot, 1)
    late = await bot.core.handle(press(bot, approval, "approve"))
    assert isinstance(late, Note) and "closed" in late.text
    assert bot.queue.enqueued == []


async def test_a_clip_with_consent_is_posted_featuring_the_cameo(bot: Bot) -> None:
    await make_cameo(bot, 1, audience="everyone")
    await bot.core.handle(sora("@person1 does a kickflip"))
    job = await the_job(bot)
    clip = await finish(bot, job.id)
    await bot.core.on_event(JobEvent(job_id=job.id, kind="done", clip_id=clip.id))
    (posted,) = bot.port.of("clip")
    assert isinstance(posted.reply, ClipReady) and posted.reply.cameos == ("@person1",)
    assert "featuring @person1" in posted.reply.text
    # The owner hears of it privately, with a button that takes it down everywhere.
    told = bot.port.dms_to(ALICE)[-1].reply
    assert f"You're in clip #{clip.id}" in told.text and "by @person2" in told.text
    (take_down,) = told.choices
    assert take_down.button.action == "delete" and take_down.button.target_id == clip.id
    pressed = await bot.core.handle(DeleteClip(ALICE, dm_chat(ALICE), clip.id))
    assert isinstance(pressed, Deleted)
    assert bot.port.of("delete")[-1].message_id == posted.message_id
    # A repeated done event posts nothing and tells nobody again.
    dms = len(bot.port.of("dm"))
    await bot.core.on_event(JobEvent(job_id=job.id, kind="done", clip_id=clip.id))
    assert len(bot.port.of("dm")) == dms and len(bot.port.of("clip")) == 1


async def test_a_remix_asks_the_cameo_owner_for_the_remixer(bot: Bot) -> None:
    clip = await _clip_with_alice(bot, "approved")
    assert clip.id is not None
    remix = Remix("now underwater", CAROL, CHAT, parent_clip_id=clip.id, message=message("r"))
    reply = await bot.core.handle(remix)
    assert isinstance(reply, Note) and "Waiting for @person1" in reply.text
    note, _ = consent_request(bot, 1)
    assert "@person3" in note.text


async def test_without_edits_the_requester_gets_new_messages(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs)
    bot.port.capabilities = Capabilities(edits=False)
    await make_cameo(bot, 1)
    await bot.core.handle(sora("@person1 knits a scarf"))
    _, approval = consent_request(bot, 1)
    await bot.core.handle(press(bot, approval, "approve"))
    assert isinstance(bot.port.of("post")[-1].reply, Queued)

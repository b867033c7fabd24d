"""Cameos through the core: enrollment with the real dlib checks, consent in direct messages,
expiry, revocation, remixes, the owner's controls and "forget me".

The chat platform is the recording port; the database, the blob store and the face model are
real. The people and steps are tests.bot.cameo_harness.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.commands import DeleteClip, Remix, SelfieUpload
from bot.ports import Capabilities
from bot.replies import ClipReady, Deleted, Failed, Note, Queued, Refused
from engine.events import JobEvent
from engine.faces.dlib_backend import DlibAnalyzer
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import ApprovalState, Cameo, CameoGrant, Clip, Job, JobCameo, JobState
from tests.bot.cameo_harness import (
    ALICE,
    BOB,
    CAROL,
    OTHER_ROOM,
    cameo,
    cameo_bot,
    consent_request,
    enroll,
    make_cameo,
    press,
    sora,
    the_job,
    upload,
)
from tests.bot.cameo_harness import clip_with_alice as _clip_with_alice
from tests.bot.harness import Bot, finish, make_bot
from tests.engine.faces import clips
from tests.fakes import CHAT, dm_chat, message


@pytest.fixture(scope="module")
def selfie() -> bytes:
    return clips.head_turn()


@pytest.fixture
def bot(any_db: Database, blobs: BlobStore, analyzer: DlibAnalyzer) -> Bot:
    # Both databases: the cameo queries (case-insensitive names, JSON columns) must agree.
    return cameo_bot(any_db, blobs, analyzer)


# Enrollment -----------------------------------------------------------------------------------


async def test_cameo_in_a_group_opens_enrollment_in_a_dm(bot: Bot) -> None:
    await bot.core.handle(cameo(1))
    (dm,) = bot.port.dms_to(ALICE)
    assert "say your code" in dm.reply.text
    [group] = bot.port.of("post")
    assert group.chat == CHAT and "direct message" in group.reply.text


async def test_a_head_turn_enrolls_and_keeps_only_embedding_and_crops(
    bot: Bot, selfie: bytes
) -> None:
    reply = await enroll(bot, 1, selfie)
    assert isinstance(reply, Note) and "cameo is ready" in reply.text
    async with bot.db.session() as session:
        row = (await session.exec(select(Cameo))).one()
    assert row.face_model == "dlib" and len(row.embedding) == 128
    assert row.audience == "approved"  # a new cameo asks before every use by someone else
    assert row.crop_keys and all([await bot.blobs.exists(key) for key in row.crop_keys])
    assert row.spoken_code in reply.text and "don't check speech" in reply.text
    # The "checking" status message was edited into the verdict.
    assert bot.port.of("edit")[-1].reply == reply


async def test_a_selfie_without_cameo_first_is_refused(bot: Bot, selfie: bytes) -> None:
    reply = await bot.core.handle(upload(1, selfie))
    assert isinstance(reply, Refused) and "/cameo" in reply.text


async def test_an_oversized_selfie_is_refused_unread(bot: Bot) -> None:
    await bot.core.handle(cameo(1))

    async def fetch() -> bytes:
        raise AssertionError("a file over the limit must not be downloaded")

    command = SelfieUpload(ALICE, dm_chat(ALICE), fetch, size_bytes=25_000_000)
    reply = await bot.core.handle(command)
    assert isinstance(reply, Refused) and "25.0 MB" in reply.text


async def test_two_faces_and_an_impersonation_are_refused(bot: Bot, selfie: bytes) -> None:
    two = await enroll(bot, 1, clips.two_faces())
    assert isinstance(two, Refused) and "more than one face" in two.text
    assert isinstance(await enroll(bot, 1, selfie), Note)
    copycat = await enroll(bot, 2, selfie)
    assert isinstance(copycat, Refused) and "already has a cameo" in copycat.text
    assert "person1" not in copycat.text  # says nothing about whose cameo it resembles


# Consent --------------------------------------------------------------------------------------


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


async def test_a_remix_by_someone_not_allowed_is_refused(bot: Bot) -> None:
    clip = await _clip_with_alice(bot, "only_me")
    assert clip.id is not None
    remix = Remix("now on Mars", CAROL, CHAT, parent_clip_id=clip.id, message=message("r"))
    reply = await bot.core.handle(remix)
    assert isinstance(reply, Refused) and "can't remix this clip" in reply.text


# Owner controls -------------------------------------------------------------------------------


async def test_the_cameo_owner_may_delete_a_clip_they_are_in(bot: Bot) -> None:
    await make_cameo(bot, 1, audience="everyone")
    await bot.core.handle(sora("@person1 in a clip by Bob"))
    job = await the_job(bot)
    clip = await finish(bot, job.id)
    assert clip.id is not None
    stranger = await bot.core.handle(DeleteClip(CAROL, CHAT, clip.id))
    assert isinstance(stranger, Refused)
    assert isinstance(await bot.core.handle(DeleteClip(ALICE, CHAT, clip.id)), Deleted)


async def test_owner_lists_clips_sets_preferences_and_audience(bot: Bot) -> None:
    await make_cameo(bot, 1, audience="everyone")
    await bot.core.handle(sora("@person1 bakes a cake"))
    clip = await finish(bot, (await the_job(bot)).id)
    listed = await bot.core.handle(cameo(1, "clips"))
    assert (
        isinstance(listed, Note) and f"#{clip.id}" in listed.text and "bakes a cake" in listed.text
    )
    # Each clip links its entry on the chat's feed page, by a link signed for the owner.
    [page] = [word for word in listed.text.split() if "/f/" in word]
    access = bot.core.deps.feed_links.verify(page.split("/f/")[1].split("/")[0])
    assert page.endswith(f"/clip/{clip.id}")
    assert (access.chat_id, access.user_id) == (CHAT.chat_id, ALICE.user_id)
    prefs = await bot.core.handle(cameo(1, "prefs always wearing a red hat"))
    assert isinstance(prefs, Note)
    status = await bot.core.handle(cameo(1))
    assert "always wearing a red hat" in status.text and "everyone" in status.text
    bad = await bot.core.handle(cameo(1, "audience my cat"))
    assert isinstance(bad, Refused) and "only_me" in bad.text


async def test_forget_me_deletes_cameo_clips_remixes_and_sends_a_receipt(bot: Bot) -> None:
    clip = await _clip_with_alice(bot, "everyone")
    assert clip.id is not None
    await bot.core.handle(Remix("with fireworks", BOB, CHAT, clip.id, message=message("r")))
    remix_job = await the_job(bot)
    remix = await finish(bot, remix_job.id)
    async with bot.db.session() as session:
        row = (await session.exec(select(Cameo))).one()
    row_crops = list(row.crop_keys)
    await bot.core.handle(sora("@person1 still cooking", who=3))  # unfinished, with her face
    pending = await the_job(bot)

    receipt = await bot.core.handle(cameo(1, "forget"))
    assert isinstance(receipt, Note) and "I forgot your cameo" in receipt.text
    assert f"#{clip.id}" in receipt.text and f"#{remix.id}" in receipt.text
    assert bot.port.dms_to(ALICE)[-1].reply == receipt
    async with bot.db.session() as session:
        assert (await session.exec(select(Cameo))).all() == []
        assert (await session.exec(select(JobCameo))).all() == []
        for clip_id in (clip.id, remix.id):
            assert (await session.get(Clip, clip_id)).deleted  # type: ignore[union-attr]
        assert (await session.get(Job, pending.id)).state is JobState.CANCELLED  # type: ignore[union-attr]
    keys = [clip.blob_key, remix.blob_key, *row_crops]
    assert not any([await bot.blobs.exists(key) for key in keys])
    # The posted clip came down from the chat.
    assert bot.port.of("delete")


async def test_suggestions_offer_enrolled_people_by_prefix(bot: Bot) -> None:
    await make_cameo(bot, 1)
    await make_cameo(bot, 2)
    found = await bot.core.suggest_cameos(platform="test", typed="@person")
    assert sorted(s.user_id for s in found) == ["u1", "u2"]
    assert [s.label for s in await bot.core.suggest_cameos(platform="test", typed="nobody")] == []


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

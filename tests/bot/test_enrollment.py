"""Enrolling a cameo through the core, with the real dlib checks: the code asked for in a DM, a
head-turn selfie kept as an embedding and crops, and the selfies refused (none asked for, too
large, two faces, someone else's face).

The chat platform is the recording port; the database, the blob store and the face model are
real. The people and steps are tests.bot.cameo_harness."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.commands import SelfieUpload
from bot.replies import Note, Refused
from storage.models import Cameo
from tests.bot.cameo_harness import ALICE, cameo, cameo_core, enroll, upload
from tests.bot.harness import Bot
from tests.engine.faces import clips
from tests.fakes import CHAT, dm_chat

bot = pytest.fixture(cameo_core, name="bot")


@pytest.fixture(scope="module")
def selfie() -> bytes:
    return clips.head_turn()


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

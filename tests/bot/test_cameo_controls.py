"""The owner's controls over their cameo, through the core: taking down a clip they are in,
listing their clips, preferences and audience, and "forget me"; and enrolled people offered by
name as someone types a mention.

The people and steps are tests.bot.cameo_harness."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.commands import DeleteClip, Remix
from bot.replies import Deleted, Note, Refused
from storage.models import Cameo, Clip, Job, JobCameo, JobState
from tests.bot.cameo_harness import ALICE, BOB, CAROL, cameo, cameo_core, make_cameo, sora, the_job
from tests.bot.cameo_harness import clip_with_alice as _clip_with_alice
from tests.bot.harness import Bot, finish
from tests.fakes import CHAT, message

bot = pytest.fixture(cameo_core, name="bot")


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

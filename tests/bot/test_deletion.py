"""Deleting a clip through the core: only its author may, and it comes down everywhere it shows.
(A cameo owner's right to delete is in test_cameo_controls, on the cameo core.)"""

from __future__ import annotations

from bot.commands import DeleteClip
from bot.replies import Deleted, Queued, Refused
from engine.events import JobEvent
from storage.models import Clip
from tests.bot.harness import Bot, finish, sora
from tests.fakes import CHAT, person


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

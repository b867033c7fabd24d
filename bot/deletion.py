"""Deleting a clip: the row is flagged, the file removed, and every message showing it taken
down. Only the clip's author may (the cameo issue adds the owners of faces in it)."""

from __future__ import annotations

import logging

from sqlmodel import select

from bot.commands import DeleteClip
from bot.deps import Deps
from bot.ports import ChatPort
from bot.replies import Deleted, Refused
from bot.types import ChatRef, MessageRef
from storage import deliveries
from storage.models import Clip, User

log = logging.getLogger(__name__)


async def delete_clip(
    deps: Deps, command: DeleteClip, ports: dict[str, ChatPort]
) -> Deleted | Refused:
    async with deps.db.transaction() as session:
        clip = await session.get(Clip, command.clip_id)
        if clip is None or clip.deleted:
            return Refused("That clip is already gone.")
        author = await session.get(User, clip.author_id)
        if author is None or (author.platform, author.platform_user_id) != (
            command.author.platform,
            command.author.user_id,
        ):
            return Refused("Only the person who made this clip can delete it.")
        clip.deleted = True
        session.add(clip)
        messages = await deliveries.messages_of(session, command.clip_id)
        shared = (
            await session.exec(
                select(Clip.id).where(Clip.blob_key == clip.blob_key, Clip.id != clip.id)
            )
        ).first()
    if shared is None:
        deps.blobs.delete(clip.blob_key)
    await _take_down(messages, ports)
    return Deleted(clip_id=command.clip_id)


async def _take_down(messages: list[tuple[str, str, str]], ports: dict[str, ChatPort]) -> None:
    for platform, chat_id, message_id in messages:
        port = ports.get(platform)
        if port is None or not port.capabilities.deletes:
            continue
        try:
            await port.delete(MessageRef(ChatRef(platform, chat_id), message_id))
        except Exception:
            # The clip is deleted for us either way; a message that stays is the platform's.
            log.warning("could not delete a clip message", extra={"platform": platform})

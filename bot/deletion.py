"""Deleting clips: the row is flagged, the file removed, and every message showing it taken
down. A clip's author may delete it, and so may the owner of any cameo in it."""

from __future__ import annotations

import logging

from bot.commands import DeleteClip
from bot.consent import Person
from bot.deps import Deps
from bot.ports import ChatPort
from bot.replies import Deleted, Refused
from bot.rows import person
from bot.types import ChatRef, MessageRef
from storage import cameos as cameo_rows
from storage import clips, deliveries, prints
from storage.models import Clip, User

log = logging.getLogger(__name__)


async def delete_clip(
    deps: Deps, command: DeleteClip, ports: dict[str, ChatPort]
) -> Deleted | Refused:
    refusal = await may_delete(deps, command.clip_id, person(command.author))
    if refusal is not None:
        return refusal
    await remove_clips(deps, [command.clip_id], ports)
    return Deleted(clip_id=command.clip_id)


async def may_delete(deps: Deps, clip_id: int, who: Person) -> Refused | None:
    """None when `who` may delete the clip, else why not."""
    async with deps.db.session() as session:
        clip = await session.get(Clip, clip_id)
        if clip is None or clip.deleted:
            return Refused("That clip is already gone.")
        author = await session.get(User, clip.author_id)
        owners = await cameo_rows.cameo_owners_of_clip(session, clip_id)
    people = [author, *owners] if author is not None else owners
    if any(person(p) == who for p in people):
        return None
    return Refused(
        "Only the person who made this clip, or someone whose cameo is in it, can delete it."
    )


async def remove_clips(deps: Deps, clip_ids: list[int], ports: dict[str, ChatPort]) -> int:
    """Delete these clips everywhere; returns how many were still there to delete."""
    removed = 0
    for clip_id in dict.fromkeys(clip_ids):
        async with deps.db.transaction() as session:
            clip = await session.get(Clip, clip_id)
            if clip is None or clip.deleted:
                continue
            clip.deleted = True
            session.add(clip)
            # Its fingerprint stays, as a tombstone: a copy still traces to "since deleted".
            await prints.bury(session, [clip_id])
            messages = await deliveries.messages_of(session, clip_id)
            # Files are keyed by their content, so another clip may hold the very same one.
            shared = await clips.blob_in_use(session, clip.blob_key)
        removed += 1
        if not shared:
            await deps.blobs.delete(clip.blob_key)
        await _take_down(messages, ports)
    return removed


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

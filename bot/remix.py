"""Remix: a new clip built on an existing one, found from a reply or from its id."""

from __future__ import annotations

from bot.deps import Deps
from bot.errors import ClipGone
from bot.types import MessageRef
from storage import deliveries
from storage.models import Clip


async def parent_from_reply(deps: Deps, reply_to: MessageRef | None) -> Clip | None:
    """The clip shown by the message being replied to; None when that message is no clip of ours
    (then the reply is an ordinary /sora). A deleted clip is refused, not silently ignored."""
    if reply_to is None:
        return None
    async with deps.db.session() as session:
        clip = await deliveries.clip_at_message(
            session,
            platform=reply_to.chat.platform,
            platform_chat_id=reply_to.chat.chat_id,
            message_id=reply_to.message_id,
        )
    if clip is not None and clip.deleted:
        raise ClipGone()
    return clip


async def parent_by_id(deps: Deps, clip_id: int) -> Clip:
    async with deps.db.session() as session:
        clip = await session.get(Clip, clip_id)
    if clip is None or clip.deleted:
        raise ClipGone()
    return clip

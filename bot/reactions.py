"""Reactions on posted clips, the ❤️ button, and `/remix 12 <change>`.

A reaction arrives for a platform message; it counts when that message shows one of our clips.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import Remix
from bot.deps import Deps
from bot.feed_commands import React, ReactionCounts, RemixByNumber, ToggleLike
from bot.replies import Note, Refused
from bot.rows import row_id, user_row
from bot.types import ChatUser, MessageRef
from storage import clips, deliveries
from storage import feed as feed_rows
from storage.models import Clip, User

log = logging.getLogger(__name__)

HEART = "❤️"
REMIX_USAGE = "Say which clip and what should change: /remix 12 make it rain (numbers: /feed)."


async def react(deps: Deps, command: React) -> Note:
    """Record a person's added and removed reactions; messages showing no clip are ignored."""
    async with deps.db.transaction() as session:
        clip = await _clip_at(session, command.message)
        if clip is None:
            return Note("")
        user = await _user(session, command.author)
        await feed_rows.react(
            session,
            clip_id=row_id(clip),
            user_id=row_id(user),
            added=list(command.added),
            removed=list(command.removed),
        )
        total = await feed_rows.reaction_total(session, row_id(clip))
    log.info("feed: reaction", extra={"clip_id": clip.id, "total": total})
    return Note(f"{HEART} {total} on #{clip.id}")


async def counts(deps: Deps, command: ReactionCounts) -> Note:
    async with deps.db.transaction() as session:
        clip = await _clip_at(session, command.message)
        if clip is None:
            return Note("")
        await feed_rows.set_anonymous_counts(session, row_id(clip), dict(command.counts))
        total = await feed_rows.reaction_total(session, row_id(clip))
    return Note(f"{HEART} {total} on #{clip.id}")


async def toggle_like(deps: Deps, command: ToggleLike) -> Note | Refused:
    """The ❤️ button: the presser's heart on, or off again. Only clips of this chat."""
    async with deps.db.transaction() as session:
        clip = await clips.clip_in_chat(
            session, command.clip_id, command.chat.platform, command.chat.chat_id
        )
        if clip is None:
            return Refused(f"Clip #{command.clip_id} is gone.")
        user = await _user(session, command.author)
        on = await feed_rows.toggle(
            session, clip_id=command.clip_id, user_id=row_id(user), emoji=HEART
        )
        total = await feed_rows.reaction_total(session, command.clip_id)
    if on:
        return Note(f"{HEART} You like #{command.clip_id} ({total} in all).")
    return Note(f"You took your {HEART} back from #{command.clip_id} ({total} in all).")


async def remix_by_number(deps: Deps, command: RemixByNumber) -> Remix | Refused:
    """`/remix 12 make it rain`: a Remix of clip 12, if clip 12 was made in this chat."""
    number, _, prompt = command.args.strip().partition(" ")
    number = number.lstrip("#")
    if not number.isdigit() or not prompt.strip():
        return Refused(REMIX_USAGE)
    async with deps.db.session() as session:
        clip = await clips.clip_in_chat(
            session, int(number), command.chat.platform, command.chat.chat_id
        )
    if clip is None:
        return Refused(f"There is no clip #{number} in this chat. See /feed for the numbers.")
    return Remix(
        prompt=prompt.strip(),
        author=command.author,
        chat=command.chat,
        parent_clip_id=int(number),
        message=command.message,
    )


async def _clip_at(session: AsyncSession, message: MessageRef) -> Clip | None:
    clip = await deliveries.clip_at_message(
        session,
        platform=message.chat.platform,
        platform_chat_id=message.chat.chat_id,
        message_id=message.message_id,
    )
    return None if clip is None or clip.deleted else clip


async def _user(session: AsyncSession, person: ChatUser) -> User:
    """The reactor's row. A platform that names only the id (Discord's removals) leaves the
    name on record as it is."""
    if not person.display_name:
        known = await feed_rows.user_by_platform_id(session, person.platform, person.user_id)
        if known is not None:
            return known
        person = ChatUser(person.platform, person.user_id, person.user_id, person.username)
    return await user_row(session, person)

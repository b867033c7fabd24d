"""Reactions on messages as the core's React: discord.py's raw reaction events, which arrive for
any message (cached or not) with the `reactions` intent (not a privileged one)."""

from __future__ import annotations

import logging

import discord

from adapters.discord.port import PLATFORM
from bot.feed_commands import React
from bot.ports import CorePort
from bot.types import ChatRef, ChatUser, MessageRef

log = logging.getLogger(__name__)


def reaction_key(emoji: discord.PartialEmoji) -> str:
    """A unicode emoji as itself; a server's custom emoji by its id."""
    if emoji.id is not None:
        return f"custom:{emoji.id}"
    return emoji.name or ""


def reacted(client: discord.Client, event: discord.RawReactionActionEvent) -> React | None:
    """The core's React for one raw event; None for the bot's own reactions and other bots'."""
    if client.user is not None and event.user_id == client.user.id:
        return None
    member = event.member
    if member is not None and member.bot:
        return None
    # A removal names only the user id; the core then keeps the name it has.
    person = member or client.get_user(event.user_id)
    author = ChatUser(
        PLATFORM,
        str(event.user_id),
        person.display_name if person is not None else "",
        person.name if person is not None else None,
    )
    chat = ChatRef(PLATFORM, str(event.channel_id))
    key = reaction_key(event.emoji)
    added = event.event_type == "REACTION_ADD"
    return React(
        author=author,
        chat=chat,
        message=MessageRef(chat, str(event.message_id)),
        added=(key,) if added else (),
        removed=() if added else (key,),
    )


def watch_reactions(client: discord.Client, core: CorePort) -> None:
    """Hand every reaction added or removed to the core (it counts those on its clips)."""

    async def on_raw_reaction_add(event: discord.RawReactionActionEvent) -> None:
        await _hand_over(client, core, event)

    async def on_raw_reaction_remove(event: discord.RawReactionActionEvent) -> None:
        await _hand_over(client, core, event)

    client.event(on_raw_reaction_add)
    client.event(on_raw_reaction_remove)


async def _hand_over(
    client: discord.Client, core: CorePort, event: discord.RawReactionActionEvent
) -> None:
    command = reacted(client, event)
    if command is not None:
        await core.handle(command)

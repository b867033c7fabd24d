"""Telegram reaction updates as the core's React and ReactionCounts.

Telegram sends `message_reaction` (one person's old and new reactions on a message) and
`message_reaction_count` (anonymous totals, grouped and delayed) only to a bot that is an admin
of the chat and lists them in `allowed_updates`; reactions by other bots never arrive.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    MessageReactionCountUpdated,
    MessageReactionUpdated,
    ReactionType,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
)

from adapters.telegram.convert import PLATFORM, chat_ref, chat_user
from bot.feed_commands import React, ReactionCounts
from bot.types import ChatUser, MessageRef


def reaction_key(reaction: ReactionType) -> str:
    """An emoji as itself; a custom emoji by its id; a paid star reaction as ⭐."""
    if isinstance(reaction, ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return f"custom:{reaction.custom_emoji_id}"
    return "⭐"


def reacted(update: MessageReactionUpdated) -> React | None:
    """One person's change: what is in the new list and not the old was added, and the other
    way round. None for a reaction on behalf of a chat (an anonymous admin, a channel)."""
    if update.user is None:
        return None
    chat = chat_ref(update.chat)
    old = _keys(update.old_reaction)
    new = _keys(update.new_reaction)
    return React(
        author=chat_user(update.user),
        chat=chat,
        message=MessageRef(chat, str(update.message_id)),
        added=tuple(key for key in new if key not in old),
        removed=tuple(key for key in old if key not in new),
    )


def counted(update: MessageReactionCountUpdated) -> ReactionCounts:
    chat = chat_ref(update.chat)
    counts: dict[str, int] = {}
    for reaction in update.reactions:
        key = reaction_key(reaction.type)
        counts[key] = counts.get(key, 0) + reaction.total_count
    # Nobody in particular reacted: the chat stands for its anonymous members.
    anonymous = ChatUser(PLATFORM, chat.chat_id, chat.title or "anonymous")
    return ReactionCounts(
        chat=chat,
        message=MessageRef(chat, str(update.message_id)),
        counts=tuple(counts.items()),
        author=anonymous,
    )


def _keys(reactions: Sequence[ReactionType]) -> list[str]:
    return list(dict.fromkeys(reaction_key(reaction) for reaction in reactions))

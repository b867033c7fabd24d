"""The feed's commands: showing a chat's clips, paging through them, reactions, and remixing
a clip by its number. Adapters build them like the others in `bot.commands`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import ChatRef, ChatUser, MessageRef


@dataclass(frozen=True)
class ShowFeed:
    """`/feed`, `/feed new`, `/feed top`, `/feed @person`, `/feed #12`: `args` as typed."""

    args: str
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None
    # The adapter knows the platform will not deliver reactions here (a Telegram bot that is not
    # a chat admin): the answer says so and how to fix it.
    reactions_off: bool = False


@dataclass(frozen=True)
class FeedPage:
    """A paging button under a /feed answer. `cursor` is `bot.feed.Cursor.pack()`; the answer
    comes back to the adapter, which shows it in place of the pressed message."""

    cursor: int
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None


@dataclass(frozen=True)
class RemixByNumber:
    """`/remix 12 make it rain`: `args` as typed; the number must be a clip of this chat."""

    args: str
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None


@dataclass(frozen=True)
class React:
    """A person's reactions on a message changed (Telegram message_reaction, Discord reaction
    add/remove). Messages that show none of our clips are ignored."""

    author: ChatUser
    chat: ChatRef
    message: MessageRef
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReactionCounts:
    """Anonymous reaction totals on a message (Telegram message_reaction_count)."""

    chat: ChatRef
    message: MessageRef
    counts: tuple[tuple[str, int], ...]
    # Nobody in particular: the adapter names the chat itself as the reactor.
    author: ChatUser


@dataclass(frozen=True)
class ToggleLike:
    """The ❤️ button under a clip, where reactions cannot arrive: on, or off again."""

    author: ChatUser
    chat: ChatRef
    clip_id: int
    message: MessageRef | None = None


FeedCommand = ShowFeed | FeedPage | RemixByNumber | React | ReactionCounts | ToggleLike

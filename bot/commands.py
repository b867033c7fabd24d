"""Commands: what a person asked for, in platform-neutral terms."""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import ChatRef, ChatUser, MessageRef


@dataclass(frozen=True)
class Generate:
    """`/sora <prompt>`. With `reply_to` pointing at one of our clips it is a remix of it."""

    prompt: str
    author: ChatUser
    chat: ChatRef
    # The command's own message (the bot answers in reply to it), if the platform has one.
    message: MessageRef | None = None
    reply_to: MessageRef | None = None
    # Users the platform resolved as mentioned (e.g. Telegram text_mention); @names in the text
    # are extracted by the prompt parser as well.
    mentions: tuple[ChatUser, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class Remix:
    """A new clip from an existing one (a Remix button): parent prompt and seed carried forward."""

    prompt: str
    author: ChatUser
    chat: ChatRef
    parent_clip_id: int
    message: MessageRef | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Reroll:
    """The same prompt as an existing clip with a new seed (a Reroll button)."""

    author: ChatUser
    chat: ChatRef
    parent_clip_id: int
    message: MessageRef | None = None


@dataclass(frozen=True)
class DeleteClip:
    """Take a clip down everywhere it was posted. Only its author may (cameo owners later)."""

    author: ChatUser
    chat: ChatRef
    clip_id: int
    message: MessageRef | None = None


@dataclass(frozen=True)
class Help:
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None


@dataclass(frozen=True)
class Unknown:
    """A `/word` the bot does not know; it answers with help rather than silence."""

    name: str
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None


Command = Generate | Remix | Reroll | DeleteClip | Help | Unknown

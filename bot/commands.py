"""Commands: what a person asked for, in platform-neutral terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from bot.admin_commands import AdminCommand, CancelJob
from bot.feed_commands import FeedCommand
from bot.queue_commands import ShowQueue
from bot.types import ChatRef, ChatUser, MessageRef

# Seeds are 0..MAX_SEED: 31 bits fit every database's INTEGER and every engine's generator.
MAX_SEED = 2**31 - 2


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
class Repost:
    """`/repost N`: post clip N again in this chat, when a restart mid-upload left it unknown
    whether it went up (Telegram, where the bot cannot look)."""

    author: ChatUser
    chat: ChatRef
    clip_id: int | None
    message: MessageRef | None = None


@dataclass(frozen=True)
class DeleteClip:
    """Take a clip down everywhere it was posted: its author may, and so may the owner of any
    cameo in it."""

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


@dataclass(frozen=True)
class CameoCommand:
    """`/cameo [what]`: with nothing after it, start (or restart) enrolling a cameo; otherwise
    one of the owner's controls (`audience`, `prefs`, `clips`, `delete`, `revoke`, `forget`).
    Answered in a direct message, since a cameo is private business."""

    args: str
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None


@dataclass(frozen=True)
class SelfieUpload:
    """A video the person sent the bot privately: the selfie clip of an open enrollment.

    The adapter does not download it: `fetch` does, once the core has checked `size_bytes`
    (None when the platform does not say) against the limit, so a huge file is refused unread.
    """

    author: ChatUser
    chat: ChatRef
    fetch: Callable[[], Awaitable[bytes]]
    size_bytes: int | None
    message: MessageRef | None = None


@dataclass(frozen=True)
class VerifyUpload:
    """A video the person sent the bot privately with /verify: "where did this come from?"
    (bot.verify). As with a selfie, `fetch` downloads it only once `size_bytes` (None when the
    platform does not say) was checked against the limit."""

    author: ChatUser
    chat: ChatRef
    fetch: Callable[[], Awaitable[bytes]]
    size_bytes: int | None
    message: MessageRef | None = None


ConsentAnswer = Literal["approve", "always", "deny"]


@dataclass(frozen=True)
class AnswerConsent:
    """A press on Approve once / Always allow / Deny under a consent request. `author` is
    whoever pressed; only the cameo's owner is listened to."""

    approval_id: int
    answer: ConsentAnswer
    author: ChatUser
    chat: ChatRef
    # The direct message that carried the buttons; the core edits it to show the answer.
    message: MessageRef | None = None


Command = (
    Generate
    | Remix
    | Reroll
    | DeleteClip
    | Help
    | Unknown
    | CameoCommand
    | SelfieUpload
    | VerifyUpload
    | AnswerConsent
    | FeedCommand
    | AdminCommand
    | CancelJob
    | Repost
    | ShowQueue
)

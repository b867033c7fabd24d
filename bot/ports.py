"""Both sides of the seam between the core and a chat platform, each one small protocol:
`ChatPort` is what the core asks of a platform (what a platform cannot do is a capability, not
a method that raises); `CorePort` is what an adapter asks of the core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.commands import Command
from bot.replies import ClipReady, Failed, Note, Progress, Queued, Refused, Usage
from bot.types import ChatRef, ChatUser, MessageRef


@dataclass(frozen=True)
class Capabilities:
    # Can a posted message be edited (the status message becomes a live progress bar)?
    edits: bool = True
    # Can a posted message be deleted (the status message goes once the clip is up)?
    deletes: bool = True
    # Largest upload the platform takes, in bytes; None for no limit worth knowing.
    max_upload_bytes: int | None = None
    # Seconds between two edits of the same message that the platform tolerates.
    min_edit_interval_s: float = 0.0
    # Can the bot search a chat for a clip it posted (Discord's channel history; Telegram
    # bots cannot read history)? Decides what happens after a bot died mid-upload.
    finds_clips: bool = False


Notice = Queued | Progress | Failed | Refused | Usage | Note


class UploadTooLarge(Exception):
    """Raised by `send_clip` when the platform refused the file for its size (e.g. HTTP 413);
    the core re-encodes the clip smaller and tries again."""

    def __init__(self, limit_bytes: int | None = None) -> None:
        super().__init__(f"upload refused as too large (limit {limit_bytes or 'unknown'})")
        self.limit_bytes = limit_bytes


class PlatformBusy(Exception):
    """The platform asked the bot to slow down (HTTP 429) or failed for a while (5xx); the
    core tries the post again, not before `retry_after_s` when the platform said."""

    def __init__(self, retry_after_s: float | None = None) -> None:
        super().__init__(f"platform busy (retry after {retry_after_s or 'unknown'} s)")
        self.retry_after_s = retry_after_s


class NoPort(LookupError):
    """A reply for a platform whose adapter is not running in this process."""


class CannotDM(Exception):
    """The platform will not let the bot message this person privately (they never started a
    chat with the bot, or they block messages from it). `str()` is for the chat."""

    def __init__(self, handle: str) -> None:
        super().__init__(
            f"I can't send {handle} a direct message. {handle}, please open a private chat "
            "with me (or allow direct messages from this server's members) and try again."
        )
        self.handle = handle


class ChatPort(Protocol):
    """One per platform. The core calls it; the adapter renders."""

    platform: str
    capabilities: Capabilities

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        """Post a text-like reply; returns the new message."""
        ...

    async def edit(self, message: MessageRef, reply: Notice) -> MessageRef | None:
        """Replace a message's content (only called when `capabilities.edits`), with a
        Progress's preview frame as its picture where the platform shows one. Returns the new
        message when the platform had to replace the old one to do it (Telegram cannot turn
        a text message into a photo), else None."""
        ...

    async def delete(self, message: MessageRef) -> None:
        """Remove one of the bot's messages (only called when `capabilities.deletes`)."""
        ...

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        """Post the finished clip; returns the message that shows it (replies to it remix).
        Raises UploadTooLarge when the platform turns the file down for its size."""
        ...

    async def dm(self, user: ChatUser, note: Note) -> MessageRef:
        """Message one person privately (the local chat: their private panel), with the
        note's choices as buttons; returns the message. Raises CannotDM when not allowed."""
        ...

    def link(self, message: MessageRef) -> str | None:
        """A URL that opens this message, where the platform has one."""
        ...

    async def find_clip(self, chat: ChatRef, clip_id: int) -> MessageRef | None:
        """The bot's own message showing clip `clip_id` in `chat`, if it is there (only called
        when `capabilities.finds_clips`)."""
        ...


@dataclass(frozen=True)
class CameoSuggestion:
    """A cameo to offer while someone types a mention (Discord's autocomplete)."""

    label: str
    # The cameo owner's user id on the platform asked about.
    user_id: str


class CorePort(Protocol):
    """What every adapter asks of the core (`bot.service.Core`): a port to answer through,
    commands to handle, and cameos to suggest while someone types."""

    def attach(self, port: ChatPort) -> None: ...

    async def handle(self, command: Command) -> Any:
        """Answer a command through its platform's port; returns the answer, which the adapter
        shows itself where only the presser should see it (a button's verdict, a feed page)."""
        ...

    async def suggest_cameos(self, *, platform: str, typed: str) -> Sequence[CameoSuggestion]: ...

"""Working fakes of the *other* side of the part under test: a chat port that records what the
core asks of it, and a queue that records what was enqueued."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.ports import CannotDM, Capabilities, Notice, UploadTooLarge
from bot.replies import ClipReady, Note
from bot.types import ChatRef, ChatUser, MessageRef


@dataclass
class Sent:
    action: str
    chat: ChatRef
    reply: Any
    message_id: str
    reply_to: MessageRef | None = None
    video: bytes | None = None


@dataclass
class RecordingPort:
    platform: str = "test"
    capabilities: Capabilities = field(default_factory=Capabilities)
    sent: list[Sent] = field(default_factory=list)
    fail_clip_uploads: int = 0
    # Refuse this many uploads as too large, the way a platform's HTTP 413 does.
    refuse_as_too_large: int = 0
    # User ids the platform will not let the bot message privately.
    no_dms: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        message_id = str(next(self._ids))
        self.sent.append(Sent("post", chat, reply, message_id, reply_to))
        return MessageRef(chat, message_id)

    async def edit(self, message: MessageRef, reply: Notice) -> None:
        self.sent.append(Sent("edit", message.chat, reply, message.message_id))

    async def delete(self, message: MessageRef) -> None:
        self.sent.append(Sent("delete", message.chat, None, message.message_id))

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        if self.refuse_as_too_large:
            self.refuse_as_too_large -= 1
            raise UploadTooLarge(None)
        if self.fail_clip_uploads:
            self.fail_clip_uploads -= 1
            raise ConnectionError("upload failed")
        message_id = str(next(self._ids))
        self.sent.append(Sent("clip", chat, clip, message_id, reply_to, video))
        return MessageRef(chat, message_id)

    async def dm(self, user: ChatUser, note: Note) -> MessageRef:
        if user.user_id in self.no_dms:
            raise CannotDM(user.handle)
        chat = dm_chat(user)
        message_id = str(next(self._ids))
        self.sent.append(Sent("dm", chat, note, message_id))
        return MessageRef(chat, message_id)

    def link(self, message: MessageRef) -> str | None:
        return f"https://chat.test/{message.chat.chat_id}/{message.message_id}"

    def dms_to(self, user: ChatUser) -> list[Sent]:
        return [s for s in self.sent if s.action == "dm" and s.chat == dm_chat(user)]

    def of(self, action: str) -> list[Sent]:
        return [s for s in self.sent if s.action == action]

    def replies(self) -> list[Any]:
        return [s.reply for s in self.sent]


@dataclass
class RecordingQueue:
    enqueued: list[str] = field(default_factory=list)
    broken: bool = False

    async def enqueue(self, job_id: str) -> bool:
        if self.broken:
            raise ConnectionError("queue is down")
        if job_id in self.enqueued:
            return False
        self.enqueued.append(job_id)
        return True

    async def close(self) -> None:
        return None


CHAT = ChatRef(platform="test", chat_id="room-1", title="Test room")


def person(n: int = 1, platform: str = "test") -> ChatUser:
    return ChatUser(
        platform=platform, user_id=f"u{n}", display_name=f"Person {n}", username=f"person{n}"
    )


def message(message_id: str, chat: ChatRef = CHAT) -> MessageRef:
    return MessageRef(chat, message_id)


def dm_chat(user: ChatUser) -> ChatRef:
    """The private chat with one person, as the recording port names it."""
    return ChatRef(platform=user.platform, chat_id=f"dm-{user.user_id}", title=user.display_name)

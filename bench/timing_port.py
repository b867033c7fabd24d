"""A chat port for the benchmarks that time the bot core's answers: it posts nowhere and notes
when each command was first answered, and with what."""

from __future__ import annotations

import time

from bot.ports import Capabilities, Notice
from bot.replies import ClipReady, Note
from bot.types import ChatRef, ChatUser, MessageRef


class TimingPort:
    platform = "bench"
    capabilities = Capabilities()

    def __init__(self) -> None:
        # The command's message id -> when its first reply was posted, and that reply.
        self.answered: dict[str, tuple[float, Notice]] = {}
        self._n = 0

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        if reply_to is not None:
            self.answered.setdefault(reply_to.message_id, (time.perf_counter(), reply))
        self._n += 1
        return MessageRef(chat, f"s{self._n}")

    async def edit(self, message: MessageRef, reply: Notice) -> MessageRef | None:
        return None

    async def delete(self, message: MessageRef) -> None: ...

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        self._n += 1
        return MessageRef(chat, f"c{self._n}")

    async def dm(self, user: ChatUser, note: Note) -> MessageRef:
        return MessageRef(ChatRef("bench", f"dm-{user.user_id}"), "dm")

    def link(self, message: MessageRef) -> str | None:
        return None

    async def find_clip(self, chat: ChatRef, clip_id: int) -> MessageRef | None:
        return None

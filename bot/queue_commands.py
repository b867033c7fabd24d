"""`/queue`: what waits in this chat and roughly when each will be done (bot.queue_view)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import ChatRef, ChatUser, MessageRef


@dataclass(frozen=True)
class ShowQueue:
    """Anyone may ask; the answer is posted in the chat (the admins' version, with Cancel
    buttons, is `/admin queue`)."""

    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None

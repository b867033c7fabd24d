"""Who and where, as every platform can say it. Adapters build these; nothing platform-specific
crosses into the core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatUser:
    platform: str
    user_id: str
    display_name: str
    username: str | None = None

    @property
    def handle(self) -> str:
        return f"@{self.username}" if self.username else self.display_name


@dataclass(frozen=True)
class ChatRef:
    platform: str
    chat_id: str
    title: str = ""


@dataclass(frozen=True)
class MessageRef:
    chat: ChatRef
    message_id: str

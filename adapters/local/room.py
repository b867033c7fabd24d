"""The one room of the local chat: recent messages in memory, and everyone who is listening.

Every change (a new message, an edit, a deletion) becomes one frame that is handed to each
listener at once, so every open tab shows the same room in the same order.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from bot.types import ChatRef

log = logging.getLogger(__name__)

Frame = dict[str, Any]
MessageKind = Literal["chat", "notice", "clip"]

# Enough for a newcomer to see what happened recently; old messages simply fall off.
HISTORY_LIMIT = 200
# A reply shows a short quote of the message it answers.
QUOTE_CHARS = 120


class Listener(Protocol):
    """One open tab. `send` must not block: the room never waits for a slow browser."""

    def send(self, frame: Frame) -> None: ...


@dataclass(frozen=True)
class Author:
    user_id: str
    name: str
    is_bot: bool = False


@dataclass(frozen=True)
class RoomMessage:
    id: str
    kind: MessageKind
    author: Author
    text: str
    # Seconds since the epoch; the page formats it in the reader's own time zone.
    created_at: float = field(default_factory=time.time)
    reply_to: str | None = None
    # A short picture of the message replied to, fixed when this one was posted.
    quote: Frame | None = None
    # For notices: the reply's fields (kind, percent, stage, ...); for clips: url, clip_id, ...
    data: Frame | None = None
    edited: bool = False

    def to_json(self) -> Frame:
        return {
            "id": self.id,
            "kind": self.kind,
            "author": {
                "id": self.author.user_id,
                "name": self.author.name,
                "bot": self.author.is_bot,
            },
            "text": self.text,
            "created_at": self.created_at,
            "reply_to": self.reply_to,
            "quote": self.quote,
            "data": self.data,
            "edited": self.edited,
        }


class Room:
    def __init__(self, chat: ChatRef, *, history_limit: int = HISTORY_LIMIT) -> None:
        self.chat = chat
        self._history_limit = history_limit
        self._messages: OrderedDict[str, RoomMessage] = OrderedDict()
        self._listeners: set[Listener] = set()
        # Ids must not repeat across restarts: the core remembers which message showed which
        # clip, and a reply to a reused id would remix the wrong clip.
        self._prefix = _base36(int(time.time() * 1000)) + secrets.token_hex(2)
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"

    def get(self, message_id: str) -> RoomMessage | None:
        return self._messages.get(message_id)

    def history(self) -> list[Frame]:
        return [message.to_json() for message in self._messages.values()]

    def messages(self) -> list[RoomMessage]:
        return list(self._messages.values())

    def listen(self, listener: Listener) -> None:
        self._listeners.add(listener)

    def leave(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def quote_of(self, message_id: str | None) -> Frame | None:
        """What a reply shows of the message it answers; None if that one is gone or unknown."""
        original = self._messages.get(message_id) if message_id else None
        if original is None:
            return None
        clip_id = original.data.get("clip_id") if original.data else None
        # A clip is named by its number already; its prompt is the part worth quoting.
        text = str(original.data["prompt"]) if clip_id and original.data else original.text
        return {
            "id": original.id,
            "author": original.author.name,
            "text": text[:QUOTE_CHARS] + ("…" if len(text) > QUOTE_CHARS else ""),
            "clip_id": clip_id,
        }

    def add(self, message: RoomMessage) -> None:
        self._messages[message.id] = message
        while len(self._messages) > self._history_limit:
            self._messages.popitem(last=False)
        self.broadcast({"type": "message", "message": message.to_json()})

    def update(self, message_id: str, *, text: str, data: Frame | None) -> bool:
        """Replace a message's content in place; False if it is no longer in the room."""
        current = self._messages.get(message_id)
        if current is None:
            return False
        changed = replace(current, text=text, data=data, edited=True)
        self._messages[message_id] = changed
        self.broadcast({"type": "update", "message": changed.to_json()})
        return True

    def remove(self, message_id: str) -> bool:
        if self._messages.pop(message_id, None) is None:
            return False
        self.broadcast({"type": "delete", "id": message_id})
        return True

    def broadcast(self, frame: Frame) -> None:
        # A copy: a listener that overflows leaves the room while we walk it.
        for listener in list(self._listeners):
            listener.send(frame)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"

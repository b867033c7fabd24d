"""What a browser tab may say over the socket, checked before anything acts on it.

Three frames come in: `hello` (who this tab is), `send` (a chat line, or a command, in the room
or in the person's private panel) and `press` (a button under a bot's message). Anything else,
or anything out of bounds, is a `BadFrame` whose message the page shows as it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

MAX_TEXT_CHARS = 10_000
MAX_NAME_CHARS = 32
# The page makes a random id per tab; anything of this shape will do, nothing else is trusted.
# Checked with fullmatch: `$` would also let a trailing newline through.
_USER_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Signed button payloads are short (`ap:12:<16 chars>`); bot.callbacks.verify checks the rest.
MAX_PAYLOAD_CHARS = 128

# Where a line is said or a button pressed: the shared room, or the person's private panel
# (the local chat's direct messages with the bot).
Panel = Literal["room", "private"]


class BadFrame(ValueError):
    """A frame we will not act on. `code` lets the page tell the kinds apart."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Hello:
    name: str
    user_id: str


@dataclass(frozen=True)
class Send:
    text: str
    reply_to: str | None = None
    panel: Panel = "room"


@dataclass(frozen=True)
class Press:
    payload: str
    message_id: str
    panel: Panel = "room"


Incoming = Hello | Send | Press


def parse_frame(raw: str) -> Incoming:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        # RecursionError: 100,000 nested "[" ended the socket's reader instead of a refusal.
        raise BadFrame("bad_json", "That frame was not JSON.") from None
    if not isinstance(data, dict):
        raise BadFrame("bad_frame", "A frame must be a JSON object with a 'type'.")
    kind = data.get("type")
    if kind == "hello":
        return Hello(name=check_name(data.get("name")), user_id=_check_user_id(data.get("user_id")))
    if kind == "send":
        text = _check_text(data.get("text"))
        return Send(
            text=text,
            reply_to=_check_reply_to(data.get("reply_to")),
            panel=_check_panel(data.get("panel")),
        )
    if kind == "press":
        return Press(
            payload=_check_payload(data.get("payload")),
            message_id=_check_message_id(data.get("message_id")),
            panel=_check_panel(data.get("panel")),
        )
    shown = str(kind)[:40]
    raise BadFrame(
        "unknown_type", f"Unknown frame type {shown!r}: expected 'hello', 'send' or 'press'."
    )


def check_name(value: Any) -> str:
    if not isinstance(value, str):
        raise BadFrame("bad_name", "Pick a display name.")
    name = value.strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise BadFrame("bad_name", f"A display name has 1 to {MAX_NAME_CHARS} characters.")
    if not name.isprintable():
        raise BadFrame("bad_name", "A display name cannot hold line breaks or control characters.")
    return name


def _check_user_id(value: Any) -> str:
    if not isinstance(value, str) or not _USER_ID.fullmatch(value):
        raise BadFrame("bad_user_id", "This tab's user id is malformed; reload the page.")
    return value


def _check_text(value: Any) -> str:
    if not isinstance(value, str):
        raise BadFrame("bad_text", "A message needs some text.")
    if len(value) > MAX_TEXT_CHARS:
        raise BadFrame(
            "too_long",
            f"That message has {len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}.",
        )
    if not value.strip():
        raise BadFrame("empty", "That message is empty.")
    return value.strip()


def _check_reply_to(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _MESSAGE_ID.fullmatch(value):
        raise BadFrame("bad_reply_to", "That reply points at no message.")
    return value


def _check_panel(value: Any) -> Panel:
    if value is None or value == "room":
        return "room"
    if value == "private":
        return "private"
    raise BadFrame("bad_panel", "A line goes to the room or to your private panel.")


def _check_payload(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_PAYLOAD_CHARS:
        raise BadFrame("bad_button", "That button isn't valid here any more.")
    return value


def _check_message_id(value: Any) -> str:
    if not isinstance(value, str) or not _MESSAGE_ID.fullmatch(value):
        raise BadFrame("bad_message", "That button belongs to no message.")
    return value


def error_frame(error: BadFrame) -> dict[str, str]:
    return {"type": "error", "code": error.code, "error": str(error)}

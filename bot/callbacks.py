"""Button payloads: an action and a clip id, signed, so a press can't be forged or moved.

A payload is `<action>:<clip id>:<signature>`, short enough for Telegram's 64-byte callback data
and Discord's 100-character custom ids. The signature covers the chat too, so a payload copied
into another chat is refused. Only ids travel; everything else is read from storage on press.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from bot.errors import BotError

Action = Literal["remix", "reroll", "delete"]
ACTIONS: dict[str, Action] = {"rm": "remix", "rr": "reroll", "dl": "delete"}
_CODES = {action: code for code, action in ACTIONS.items()}
_SIGNATURE_BYTES = 12


class BadButton(BotError):
    def __init__(self) -> None:
        super().__init__("That button isn't valid here any more. Use the buttons under the clip.")


@dataclass(frozen=True)
class Button:
    action: Action
    clip_id: int


def sign(button: Button, *, chat_id: str, secret: bytes) -> str:
    body = f"{_CODES[button.action]}:{button.clip_id}"
    return f"{body}:{_signature(body, chat_id, secret)}"


def verify(payload: str, *, chat_id: str, secret: bytes) -> Button:
    """The button a payload names; BadButton if it was altered or made for another chat."""
    code, _, rest = payload.partition(":")
    clip_id, _, signature = rest.partition(":")
    body = f"{code}:{clip_id}"
    expected = _signature(body, chat_id, secret)
    if code not in ACTIONS or not clip_id.isdigit() or not hmac.compare_digest(signature, expected):
        raise BadButton()
    return Button(action=ACTIONS[code], clip_id=int(clip_id))


def _signature(body: str, chat_id: str, secret: bytes) -> str:
    digest = hmac.new(secret, f"{chat_id}\n{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")

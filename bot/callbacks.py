"""Button payloads: an action and an id, signed, so a press can't be forged or moved.

A payload is `<action>:<id>:<signature>`, short enough for Telegram's 64-byte callback data
and Discord's 100-character custom ids. Only ids travel; everything else is read from storage on
press. The id is a clip's for the clip buttons (Remix, Reroll, Delete), whose signature covers
the chat too, so a payload copied into another chat is refused. For the consent buttons (Approve
once, Always allow, Deny) it is the approval's; those are signed without a chat, since they go to
a direct message whose id the bot learns only by sending it, and the core checks that the person
pressing is the cameo's owner.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from bot.errors import BotError

# "like" is the ❤️ button (where reactions cannot arrive); "feed" pages a /feed answer, its id
# a packed `bot.feed.Cursor`.
Action = Literal["remix", "reroll", "delete", "approve", "always", "deny", "like", "feed", "cancel"]
ACTIONS: dict[str, Action] = {
    "rm": "remix",
    "rr": "reroll",
    "dl": "delete",
    "ap": "approve",
    "aa": "always",
    "dn": "deny",
    "lk": "like",
    "fd": "feed",
    # An admin's Cancel under /admin queue; its id is the job id read as a hex number.
    "cx": "cancel",
}
CONSENT_ACTIONS = frozenset({"approve", "always", "deny"})
# Buttons that go to a direct message and are checked by the core against the person pressing
# (the cameo owner; an admin of the job's chat), so they are signed without a chat.
_UNSCOPED = CONSENT_ACTIONS | {"cancel"}
_ANY_CHAT = "*"
_CODES = {action: code for code, action in ACTIONS.items()}
_SIGNATURE_BYTES = 12


class BadButton(BotError):
    def __init__(self) -> None:
        super().__init__("That button isn't valid here any more. Use the buttons under the clip.")


@dataclass(frozen=True)
class Button:
    action: Action
    # A clip's id, or for the consent actions an approval's.
    target_id: int

    @property
    def clip_id(self) -> int:
        return self.target_id

    @property
    def is_consent(self) -> bool:
        return self.action in CONSENT_ACTIONS


def sign(button: Button, *, chat_id: str, secret: bytes) -> str:
    body = f"{_CODES[button.action]}:{button.target_id}"
    scope = _ANY_CHAT if button.action in _UNSCOPED else chat_id
    return f"{body}:{_signature(body, scope, secret)}"


def verify(payload: str, *, chat_id: str, secret: bytes) -> Button:
    """The button a payload names; BadButton if it was altered or made for another chat."""
    code, _, rest = payload.partition(":")
    clip_id, _, signature = rest.partition(":")
    body = f"{code}:{clip_id}"
    if code not in ACTIONS or not clip_id.isdigit():
        raise BadButton()
    scope = _ANY_CHAT if ACTIONS[code] in _UNSCOPED else chat_id
    # compare_digest refuses non-ASCII strings with a TypeError: a pasted "aa:0:\x80" crashed.
    if not signature.isascii() or not hmac.compare_digest(
        signature, _signature(body, scope, secret)
    ):
        raise BadButton()
    return Button(action=ACTIONS[code], target_id=int(clip_id))


def _signature(body: str, chat_id: str, secret: bytes) -> str:
    digest = hmac.new(secret, f"{chat_id}\n{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")

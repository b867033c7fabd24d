"""Button payloads: an action and an id, signed, so a press can't be forged or moved.

A payload is `<action>:<id>:<signature>`, short enough for Telegram's 64-byte callback data
and Discord's 100-character custom ids. Only ids travel; everything else is read from storage on
press. The id is a clip's for the clip buttons (Remix, Reroll, Delete), whose signature covers
the chat too, so a payload copied into another chat is refused. For the consent buttons (Approve
once, Always allow, Deny) it is the approval's; those are signed without a chat, since they go to
a direct message whose id the bot learns only by sending it, and the core checks that the person
pressing is the cameo's owner.

`command_for` turns a verified press into the core's command, the same on every platform; how a
platform acknowledges the press and shows the answer stays in its adapter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from bot.admin_commands import CancelJob
from bot.commands import AnswerConsent, Command, DeleteClip, Reroll
from bot.errors import BotError
from bot.feed_commands import FeedPage, ToggleLike
from bot.types import ChatRef, ChatUser, MessageRef

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


def command_for(
    button: Button,
    *,
    author: ChatUser,
    chat: ChatRef,
    message: MessageRef | None,
    is_admin: bool = False,
) -> Command | None:
    """The command a verified press stands for; None for Remix, which needs the new prompt
    first (each platform asks for it its own way). `author` is whoever pressed; `message` is
    what the core should know the press by (the pressed message, where the platform answers
    there); `is_admin` is what the platform says of the presser in `chat` (read by Cancel)."""
    # Spelled out (not `button.is_consent`) so the type checker knows the answer's type.
    if button.action == "approve" or button.action == "always" or button.action == "deny":
        return AnswerConsent(button.target_id, button.action, author, chat, message)
    if button.action == "delete":
        return DeleteClip(author, chat, button.clip_id, message)
    if button.action == "cancel":
        return CancelJob(job_id_of(button), author, chat, message, is_admin=is_admin)
    if button.action == "reroll":
        return Reroll(author, chat, button.clip_id, message)
    if button.action == "like":
        return ToggleLike(author, chat, button.clip_id, message)
    if button.action == "feed":
        return FeedPage(button.target_id, author, chat, message)
    return None


def cancel_button(job_id: str) -> Button | None:
    """The Cancel button of a job; its id is the job id read as a hex number (None for a job
    id that is not hex, which the core never makes)."""
    try:
        return Button(action="cancel", target_id=int(job_id, 16))
    except ValueError:
        return None


def job_id_of(button: Button) -> str:
    """The job a Cancel button names (bot.cancel does the cancelling, for admins too)."""
    return f"{button.target_id:032x}"


def _signature(body: str, chat_id: str, secret: bytes) -> str:
    digest = hmac.new(secret, f"{chat_id}\n{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")

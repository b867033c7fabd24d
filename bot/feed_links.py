"""Signed links to a chat's feed page, one per person and chat, valid for a while.

A link is `<public url>/f/<token>/…` where the token names the platform, the chat, the person
and the expiry, and ends in an HMAC over them with a key derived from the kept secret (so it can
never be mistaken for a button's signature). Whoever holds a link sees that one chat's clips
until it expires; nothing else on the feed's listener answers without one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from bot.errors import BotError
from bot.types import ChatRef, ChatUser

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8766"
# A week: long enough to share around a chat's week of clips, short enough that a leaked link
# goes stale. /feed hands out a fresh one every time.
DEFAULT_TTL_S = 7 * 24 * 3600
_SIGNATURE_BYTES = 16
_FIELDS = 4


class BadLink(BotError):
    def __init__(self, why: str = "This feed link is not valid.") -> None:
        super().__init__(f"{why} Send /feed in the chat for a fresh one.")


@dataclass(frozen=True)
class FeedAccess:
    """What a verified token allows: one chat's feed, for one person, until `expires`."""

    platform: str
    chat_id: str
    user_id: str
    expires: int

    @property
    def chat(self) -> ChatRef:
        return ChatRef(self.platform, self.chat_id)


@dataclass(frozen=True)
class FeedLinks:
    secret: bytes
    public_url: str = DEFAULT_PUBLIC_URL
    ttl_s: int = DEFAULT_TTL_S

    @classmethod
    def throwaway(cls) -> FeedLinks:
        """Links for a core built without the kept secret (tests, a bot with no feed server):
        they are well formed but no server started elsewhere will accept them."""
        return cls(secret=secrets.token_bytes(32))

    def token(self, chat: ChatRef, person: ChatUser, *, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + self.ttl_s
        fields = "\n".join((chat.platform, chat.chat_id, person.user_id, str(expires)))
        body = _b64(fields.encode())
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, *, now: float | None = None) -> FeedAccess:
        """The access a token grants; BadLink if it was altered or has expired."""
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            raise BadLink()
        try:
            fields = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("\n")
        except (binascii.Error, UnicodeDecodeError):
            raise BadLink() from None
        if len(fields) != _FIELDS or not fields[3].isdigit():
            raise BadLink()
        access = FeedAccess(fields[0], fields[1], fields[2], int(fields[3]))
        if access.expires < (now if now is not None else time.time()):
            raise BadLink("This feed link has expired.")
        return access

    def feed_url(self, chat: ChatRef, person: ChatUser) -> str:
        return f"{self.public_url.rstrip('/')}/f/{self.token(chat, person)}/"

    def clip_url(self, chat: ChatRef, person: ChatUser, clip_id: int) -> str:
        return f"{self.feed_url(chat, person)}clip/{clip_id}"

    def _sign(self, body: str) -> str:
        key = hmac.new(self.secret, b"clipcrew feed links", hashlib.sha256).digest()
        digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
        return _b64(digest[:_SIGNATURE_BYTES])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")

"""Everyone the room has seen, with the username `@name` mentions find them by and the private
panel that is the local chat's direct messages with the bot.

A person is a tab's id (kept in the tab's sessionStorage). The username comes from the name they
pick: lowercase letters, digits and underscores, unique in the room, the same again whenever the
same name is picked, and never given to anyone else. A private panel outlives its tabs, so what
the bot sends a person who is away is waiting for them when they come back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from adapters.local.room import Room
from bot.types import ChatRef, ChatUser

PLATFORM = "local"
PRIVATE_PREFIX = "dm-"
# A private panel holds the person's cameo business, not a conversation; a few dozen is plenty.
PRIVATE_HISTORY_LIMIT = 50
# bot.prompt reads `@` plus up to 32 word characters; leave room for a number that tells two
# Adas apart.
MAX_USERNAME_CHARS = 28
# Nobody may be @clipcrew: that is the bot.
RESERVED_USERNAMES = frozenset({"clipcrew"})
_NOT_NAME = re.compile(r"[^a-z0-9]+")


@dataclass
class Person:
    user: ChatUser
    panel: Room


class People:
    def __init__(
        self, *, history_limit: int = PRIVATE_HISTORY_LIMIT, admin: str | None = None
    ) -> None:
        self._history_limit = history_limit
        # The room's admin: whoever picks this name (CLIPCREW_LOCAL_ADMIN), or else the first
        # person in the room since the server started.
        self._admin_name = base_username(admin) if admin else None
        self._first: str | None = None
        self._by_id: dict[str, Person] = {}
        # Every username ever handed out, and to whom: one is never given to someone else,
        # since the core may have filed a cameo under it.
        self._owners: dict[str, str] = {name: "" for name in RESERVED_USERNAMES}

    def saw(self, user_id: str, name: str) -> Person:
        """The person behind `user_id`, now called `name`: met for the first time, or renamed."""
        person = self._by_id.get(user_id)
        if self._first is None:
            self._first = user_id
        if person is None:
            user = ChatUser(PLATFORM, user_id, name, self._username(user_id, name))
            person = Person(
                user=user, panel=Room(private_chat(user), history_limit=self._history_limit)
            )
            self._by_id[user_id] = person
            return person
        # The same name finds the same username again: it already belongs to this person.
        person.user = ChatUser(PLATFORM, user_id, name, self._username(user_id, name))
        return person

    def is_admin(self, user: ChatUser, chat: ChatRef) -> bool:
        """Whether `user` may use /admin in `chat`: the room's admin in the room, and anyone in
        their own private panel. The local chat has no login (a name is whatever a tab
        picks), which is why it belongs on loopback or behind your own auth."""
        if chat.chat_id.startswith(PRIVATE_PREFIX):
            return chat.chat_id == f"{PRIVATE_PREFIX}{user.user_id}"
        if self._admin_name is not None:
            return user.username == self._admin_name
        return user.user_id == self._first

    def named(self, text: str) -> tuple[ChatUser, ...]:
        """The people whose @username appears in `text` (an admin's `/admin ban @bob`)."""
        wanted = {word.lstrip("@").lower() for word in text.split() if word.startswith("@")}
        return tuple(
            person.user for person in self._by_id.values() if person.user.username in wanted
        )

    def get(self, user_id: str) -> Person | None:
        return self._by_id.get(user_id)

    def by_chat(self, chat: ChatRef) -> Person | None:
        """The person whose private panel `chat` is; None for any other chat."""
        if chat.platform != PLATFORM or not chat.chat_id.startswith(PRIVATE_PREFIX):
            return None
        return self._by_id.get(chat.chat_id.removeprefix(PRIVATE_PREFIX))

    def _username(self, user_id: str, name: str) -> str:
        base = base_username(name)
        candidate, number = base, 1
        while self._owners.get(candidate, user_id) != user_id:
            number += 1
            candidate = f"{base}{number}"
        self._owners[candidate] = user_id
        return candidate


def private_chat(user: ChatUser) -> ChatRef:
    # One title for every panel: a ChatRef compares by its title too, and names change.
    return ChatRef(PLATFORM, f"{PRIVATE_PREFIX}{user.user_id}", title="Private with clipcrew")


def base_username(name: str) -> str:
    """`Zoë Smith` → `zoe_smith`; a name with no Latin letters or digits at all → `user`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = _NOT_NAME.sub("_", ascii_name.lower()).strip("_")
    return words[:MAX_USERNAME_CHARS].rstrip("_") or "user"

"""The emulator's reactions, as Telegram has them: `message_reaction` and
`message_reaction_count` reach a bot only while it is an administrator of the chat and only if
its getUpdates (or setWebhook) listed them in `allowed_updates`; otherwise they are never sent,
not even later. getChatMember (the emulator's, over its `roles`) tells the bot whether it is an
admin."""

from __future__ import annotations

import json
import time
from typing import Any

Json = dict[str, Any]

REACTION_KINDS = frozenset({"message_reaction", "message_reaction_count"})
# What Telegram sends when allowed_updates was never given: everything but these.
NOT_BY_DEFAULT = REACTION_KINDS | {"chat_member"}


class Reactions:
    """Mixed into the emulator's BotApi (which calls `Reactions.__init__`)."""

    users: dict[int, Json]
    # The emulator's (chat id, user id) -> "creator" or "administrator".
    roles: dict[tuple[int, int], str]

    async def push(self, update: Json) -> None:  # BotApi's
        raise NotImplementedError

    def __init__(self) -> None:
        # The last allowed_updates the bot asked for; None: never asked (Telegram's default).
        self.allowed: list[str] | None = None
        # Updates Telegram would not have sent, kept so a test can see they were not.
        self.withheld: list[Json] = []

    def remember_allowed(self, params: Json) -> None:
        """getUpdates/setWebhook: a given allowed_updates replaces the last one (empty: all
        but the default exclusions); left out, the last one stays."""
        asked = params.get("allowed_updates")
        if asked is None:
            return
        kinds = json.loads(asked) if isinstance(asked, str) else list(asked)
        self.allowed = [str(kind) for kind in kinds] or None

    def deliverable(self, update: Json) -> bool:
        kind = next(key for key in update if key != "update_id")
        if kind in REACTION_KINDS and not self._bot_is_admin(update[kind]["chat"]["id"]):
            return False
        if self.allowed is None:
            return kind not in NOT_BY_DEFAULT
        return kind in self.allowed

    def make_admin(self, chat: Json) -> None:
        """The chat's admins promote the bot (getChatMember then says "administrator")."""
        self.roles[(chat["id"], _bot_id())] = "administrator"

    def _bot_is_admin(self, chat_id: int) -> bool:
        return self.roles.get((chat_id, _bot_id())) in ("administrator", "creator")

    async def react(
        self, user: Json, message: Json, new: list[str], old: list[str] | None = None
    ) -> None:
        """`user` sets their reactions on `message` to `new` (emoji), from `old`."""
        update = {
            "chat": message["chat"],
            "message_id": message["message_id"],
            "user": user,
            "date": int(time.time()),
            "old_reaction": [_emoji(e) for e in old or []],
            "new_reaction": [_emoji(e) for e in new],
        }
        await self.push({"message_reaction": update})

    async def react_anonymously(self, message: Json, counts: dict[str, int]) -> None:
        """The anonymous totals on `message` are now `counts`."""
        update = {
            "chat": message["chat"],
            "message_id": message["message_id"],
            "date": int(time.time()),
            "reactions": [{"type": _emoji(emoji), "total_count": n} for emoji, n in counts.items()],
        }
        await self.push({"message_reaction_count": update})


def _emoji(emoji: str) -> Json:
    return {"type": "emoji", "emoji": emoji}


def _bot_id() -> int:
    from tests.adapters.telegram.emulator import BOT

    return int(BOT["id"])

"""The emulator's reaction events, as Discord sends them: MESSAGE_REACTION_ADD (with the member
in a server) and MESSAGE_REACTION_REMOVE (the user id only), over the gateway, and only to a
client that identified with the reactions intent (guild or direct-message reactions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.adapters.discord import payloads as p
from tests.adapters.discord.payloads import Json

GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGE_REACTIONS = 1 << 13


class ReactionEvents:
    """Mixed into the Emulator. Also remembers which message each button press came from, so
    an UPDATE_MESSAGE answer (a /feed page turned) edits that message."""

    of: Callable[[str], list[Any]]
    # Interaction token -> the message whose button was pressed.
    pressed: dict[str, str]

    def remember_press(self, interaction: Json) -> None:
        if not hasattr(self, "pressed"):
            self.pressed = {}
        if "message" in interaction:
            self.pressed[interaction["token"]] = interaction["message"]["id"]

    async def dispatch(self, event: str, data: Json) -> None:  # the Emulator's
        raise NotImplementedError

    def _intents(self) -> int:
        identified = self.of("identify")
        return int(identified[-1].detail or 0) if identified else 0

    async def react(self, user: Json, message: Json, emoji: str, *, removed: bool = False) -> bool:
        """`user` adds (or removes) `emoji` on `message`. Returns whether Discord would have
        sent the event (the client asked for reactions of that kind)."""
        guild_id = message.get("guild_id") or (None if message.get("dm") else str(p.GUILD_ID))
        wanted = GUILD_MESSAGE_REACTIONS if guild_id else DIRECT_MESSAGE_REACTIONS
        if not self._intents() & wanted:
            return False
        data: Json = {
            "user_id": user["id"],
            "channel_id": message["channel_id"],
            "message_id": message["id"],
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if guild_id:
            data["guild_id"] = guild_id
        if removed:
            await self.dispatch("MESSAGE_REACTION_REMOVE", data)
            return True
        if guild_id:
            data["member"] = {
                "user": user,
                "roles": [],
                "joined_at": p.TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        data["message_author_id"] = str(p.BOT_ID)
        await self.dispatch("MESSAGE_REACTION_ADD", data)
        return True

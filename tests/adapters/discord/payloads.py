"""Discord JSON shapes the emulator sends: users, the guild, messages, interactions. Only the
fields discord.py reads; values are plausible, not random."""

from __future__ import annotations

import itertools
from typing import Any

Json = dict[str, Any]

APP_ID = 900_000_000_000_000_001
BOT_ID = 900_000_000_000_000_002
GUILD_ID = 900_000_000_000_000_010
CHANNEL_ID = 900_000_000_000_000_020
TIMESTAMP = "2026-11-25T10:00:00.000000+00:00"
# The @everyone role's permissions (no Manage Server), and Manage Server's bit.
EVERYONE = 2248473465835073
MANAGE_GUILD = 1 << 5

_ids = itertools.count(910_000_000_000_000_000)


def snowflake() -> int:
    return next(_ids)


def user(user_id: int, name: str, *, bot: bool = False) -> Json:
    return {
        "id": str(user_id),
        "username": name.lower(),
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT = user(BOT_ID, "clipcrew", bot=True)
ADA = user(900_000_000_000_000_101, "Ada")
BOB = user(900_000_000_000_000_102, "Bob")
CAROL = user(900_000_000_000_000_103, "Carol")
PEOPLE = {person["id"]: person for person in (ADA, BOB, CAROL)}


def application() -> Json:
    return {
        "id": str(APP_ID),
        "name": "clipcrew",
        "icon": None,
        "description": "",
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "owner": ADA,
        "team": None,
        "flags": 0,
        "rpc_origins": [],
    }


def channel(channel_id: int = CHANNEL_ID) -> Json:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": "memes",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
    }


def dm_channel(channel_id: str, recipient: Json) -> Json:
    return {"id": channel_id, "type": 1, "recipients": [recipient]}


def attachment(attachment_id: str, filename: str, size: int, url: str) -> Json:
    return {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": "video/mp4",
    }


def guild() -> Json:
    everyone = {
        "id": str(GUILD_ID),
        "name": "@everyone",
        "permissions": "2248473465835073",
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
    }
    return {
        "id": str(GUILD_ID),
        "name": "Meme lab",
        "owner_id": ADA["id"],
        "unavailable": False,
        "large": False,
        "member_count": 3,
        "channels": [channel()],
        "roles": [everyone],
        "members": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "threads": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    }


def ready(gateway_url: str) -> Json:
    return {
        "v": 10,
        "user": BOT,
        "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
        "session_id": "session-1",
        "resume_gateway_url": gateway_url,
        "application": {"id": str(APP_ID), "flags": 0},
    }


def message(channel_id: int, content: str, *, flags: int = 0, **extra: Any) -> Json:
    return {
        "id": str(snowflake()),
        "channel_id": str(channel_id),
        "author": BOT,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": flags,
        "components": [],
        **extra,
    }


def dm_interaction(
    kind: int, data: Json, who: Json, *, channel_id: str, size_limit: int, **extra: Any
) -> Json:
    """An interaction in the bot's direct message with `who`: no guild, a user, no member."""
    made = interaction(kind, data, who, size_limit=size_limit, **extra)
    for guild_only in ("guild_id", "member", "guild_locale"):
        del made[guild_only]
    made.update(
        channel_id=channel_id,
        channel=dm_channel(channel_id, who),
        user=who,
        context=1,  # the bot's DM
        authorizing_integration_owners={"1": who["id"]},
    )
    return made


def interaction(kind: int, data: Json, who: Json, *, size_limit: int, **extra: Any) -> Json:
    interaction_id = snowflake()
    return {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": kind,
        "data": data,
        "guild_id": str(GUILD_ID),
        "channel_id": str(CHANNEL_ID),
        "channel": channel(),
        "member": {
            "user": who,
            "roles": [],
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "permissions": "2248473465835073",
        },
        "token": f"token-{interaction_id}",
        "version": 1,
        "app_permissions": "2248473465835073",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "attachment_size_limit": size_limit,
        **extra,
    }


def submitted(components: list[Json], value: str) -> list[Json]:
    """A modal's components as its submit interaction carries them, every input holding
    `value` (our modal has one)."""

    def fill(component: Json) -> Json:
        if component["type"] == 4:  # a text input
            return {"type": 4, "custom_id": component["custom_id"], "value": value}
        if "component" in component:  # a label around one input
            return {**component, "component": fill(component["component"])}
        return {**component, "components": [fill(c) for c in component.get("components", [])]}

    return [fill(component) for component in components]

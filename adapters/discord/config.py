"""What the Discord adapter needs to start, handed down by clipcrew/ (it reads no settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_API_BASE = "https://discord.com/api/v10"


@dataclass(frozen=True)
class DiscordConfig:
    token: str = field(repr=False)
    # Signs button payloads (the kept server secret).
    secret: bytes = field(repr=False)
    command: str = "sora"
    api_base: str = DEFAULT_API_BASE
    gateway_url: str | None = None
    # Guilds whose commands are synced at once (global commands take up to an hour).
    guild_ids: tuple[int, ...] = ()

"""What the feed server is handed (clipcrew builds it from the settings)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.feed_links import DEFAULT_TTL_S


@dataclass(frozen=True)
class FeedConfig:
    # Where the feed pages listen: their own listener, never the local chat's (which has no
    # login), so exposing one does not expose the other.
    host: str = "127.0.0.1"
    port: int = 8766
    # The address links use (a reverse proxy's https://…); None: this listener's own.
    public_url: str | None = None
    # Signs and checks the links (the kept secret).
    secret: bytes = b""
    link_ttl_s: int = DEFAULT_TTL_S
    # The chat command's name, for the "Remix" action's exact command (/remix is fixed).
    command: str = "sora"

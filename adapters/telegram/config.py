"""What the Telegram adapter needs to start, handed down by clipcrew/ (it reads no settings)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

DEFAULT_API_BASE = "https://api.telegram.org/bot"
DEFAULT_FILE_API_BASE = "https://api.telegram.org/file/bot"
# Where PTB's webhook server listens unless told otherwise (8443 is one of the ports Telegram
# delivers webhooks to; behind a reverse proxy any port works).
DEFAULT_WEBHOOK_LISTEN = "0.0.0.0:8443"


@dataclass(frozen=True)
class TelegramConfig:
    token: str = field(repr=False)
    # Signs button payloads (the kept server secret).
    secret: bytes = field(repr=False)
    command: str = "sora"
    api_base: str = DEFAULT_API_BASE
    file_api_base: str = DEFAULT_FILE_API_BASE
    # Set: updates arrive by webhook at this public URL; unset: long polling.
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN

    def webhook_token(self) -> str:
        """TELEGRAM_WEBHOOK_SECRET, or one derived from the server secret: a webhook without one
        would take updates from anyone who finds the URL."""
        if self.webhook_secret is not None:
            return self.webhook_secret
        return hmac.new(self.secret, b"telegram-webhook", hashlib.sha256).hexdigest()

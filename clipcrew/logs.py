"""Structured logs: one JSON object a line, with the `extra=` fields of each call.

Secrets never reach a log line through here: fields whose names look like credentials are
masked, and URLs have their passwords removed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_SECRET_NAME = re.compile(r"token|secret|password|passwd|authorization|api_key", re.I)
_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@")


def redact(value: Any) -> Any:
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\1***@", value)
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name in _STANDARD or name.startswith("_"):
                continue
            payload[name] = "***" if _SECRET_NAME.search(name) else redact(value)
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access logs for every video range request drown what matters.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # alembic narrates every plugin it loads at INFO; a newcomer should see the chat's address.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx (under python-telegram-bot) logs every request URL at INFO, and Telegram's URLs
    # carry the bot token.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)

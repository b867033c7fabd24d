"""Telegram's API answers counted for the bot's metrics (bot.metrics): an httpx response hook
on PTB's request object sees every Bot API answer, errors and 429s included, whoever made the
call (PTB retries, the rate limiter, the port)."""

from __future__ import annotations

from typing import Any

import httpx
from telegram.request import HTTPXRequest

from bot.metrics import api_answer

PLATFORM = "telegram"
# PTB's own default for the bot's (not getUpdates') connection pool.
CONNECTION_POOL_SIZE = 256


async def _count(response: httpx.Response) -> None:
    api_answer(PLATFORM, response.status_code)


def counted_request() -> HTTPXRequest:
    """PTB's default request for the Bot API calls, with every answer counted."""
    hooks: dict[str, Any] = {"event_hooks": {"response": [_count]}}
    return HTTPXRequest(connection_pool_size=CONNECTION_POOL_SIZE, httpx_kwargs=hooks)

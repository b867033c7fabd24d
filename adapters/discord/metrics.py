"""Discord's API answers counted for the bot's metrics (bot.metrics): an aiohttp trace on
discord.py's HTTP session sees every REST answer, 429s included (discord.py retries those
itself, so they never surface as errors)."""

from __future__ import annotations

import aiohttp

from bot.metrics import api_answer

PLATFORM = "discord"


async def _count(
    session: aiohttp.ClientSession, context: object, params: aiohttp.TraceRequestEndParams
) -> None:
    api_answer(PLATFORM, params.response.status)


def api_trace() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_count)
    return trace

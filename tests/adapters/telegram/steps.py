"""What a person does in a chat against the emulator, and how its answers are read, for the test
modules that drive the real PTB Application."""

from __future__ import annotations

import asyncio

from tests.adapters.telegram.emulator import ADA, BotApi, Call, Json


def replied_to(call: Call) -> int:
    return int(call.params["reply_parameters"]["message_id"])


async def sora(api: BotApi, chat: Json, text: str, **kwargs: object) -> tuple[Json, Call]:
    """Send a command and wait for its clip; returns the command and the sendVideo call."""
    before = len(api.of("sendVideo"))
    command = await api.say(chat, ADA, text, **kwargs)
    videos = await api.wait_for("sendVideo", before + 1)
    return command, videos[before]


async def wait_until(api: BotApi, method: str, text: str, timeout_s: float = 120) -> Call:
    """The first successful `method` call whose text holds `text`, waiting for it."""
    async with asyncio.timeout(timeout_s):
        seen = 0
        while True:
            calls = await api.wait_for(method, seen + 1)
            for call in calls[seen:]:
                if text in call.params.get("text", ""):
                    return call
            seen = len(calls)


def button(video: Call, label: str) -> str:
    """The callback data of the button under a clip whose text holds `label`."""
    [data] = [
        b["callback_data"]
        for b in video.params["reply_markup"]["inline_keyboard"][0]
        if label in b["text"]
    ]
    return str(data)

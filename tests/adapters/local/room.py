"""A person's tab in the room of a running `clipcrew serve` (the real core, queue and sketch
engine behind it): join, send, and read frames until the one wanted comes."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.adapters.local.tabs import WS, Frame


async def join(http: aiohttp.ClientSession, name: str, user_id: str) -> WS:
    ws = await http.ws_connect("/ws")
    await until(ws, lambda f: f["type"] == "welcome")
    await ws.send_json({"type": "hello", "name": name, "user_id": user_id})
    await until(ws, lambda f: f["type"] == "joined")
    return ws


async def until(ws: WS, wanted: Any, seen: list[Frame] | None = None) -> Frame:
    """Read frames until one satisfies `wanted`; every frame read is appended to `seen`."""
    for _ in range(500):
        frame: Frame = await ws.receive_json(timeout=60)
        if seen is not None:
            seen.append(frame)
        if wanted(frame):
            return frame
    raise AssertionError("the frame never came")


def is_clip(frame: Frame) -> bool:
    return frame["type"] == "message" and frame["message"]["kind"] == "clip"


async def send(ws: WS, text: str, reply_to: str | None = None) -> Frame:
    await ws.send_json({"type": "send", "text": text, "reply_to": reply_to})
    frame = await until(ws, lambda f: f["type"] == "message" and f["message"]["text"] == text)
    message: Frame = frame["message"]
    return message

"""A browser tab on the local chat's test server (a recording core behind it): open one as a
person, say something, read the next frame of a kind, in the room or in the private panel."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from bot.types import ChatUser

Frame = dict[str, Any]
WS = aiohttp.ClientWebSocketResponse


async def next_frame(ws: WS, kind: str) -> Frame:
    """The next frame of `kind`, skipping others (presence counts come and go)."""
    for _ in range(50):
        frame: Frame = await ws.receive_json(timeout=5)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind!r} frame")


async def join(
    client: TestClient[Any, Any], name: str = "Ada", user_id: str = "u-ada-00001"
) -> tuple[WS, Frame]:
    ws = await client.ws_connect("/ws")
    welcome = await next_frame(ws, "welcome")
    await ws.send_json({"type": "hello", "name": name, "user_id": user_id})
    joined = await next_frame(ws, "joined")
    assert joined["user"]["id"] == user_id and joined["user"]["name"] == name.strip()
    return ws, welcome


async def say(ws: WS, text: str, reply_to: str | None = None) -> Frame:
    await ws.send_json({"type": "send", "text": text, "reply_to": reply_to})
    return (await next_frame(ws, "message"))["message"]


async def enter(client: TestClient[Any, Any], user: ChatUser) -> tuple[WS, Frame]:
    """A tab for `user`; returns the socket and its `joined` frame."""
    ws = await client.ws_connect("/ws")
    await next_frame(ws, "welcome")
    await ws.send_json({"type": "hello", "name": user.display_name, "user_id": user.user_id})
    return ws, await next_frame(ws, "joined")


async def private_frame(ws: WS, kind: str = "message") -> Frame:
    for _ in range(50):
        frame: Frame = await ws.receive_json(timeout=5)
        if frame["type"] == kind and frame.get("panel") == "private":
            return frame
    raise AssertionError(f"no private {kind!r} frame")

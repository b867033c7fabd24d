"""The feed in the local chat with the real core: ❤️ under a clip counts (the local chat has no
reactions of its own), /feed answers in the room with working links and pages in place, and
/remix N remixes by number."""

from __future__ import annotations

import re

import aiohttp

from bot.types import ChatRef, ChatUser
from clipcrew.app import Services
from storage import feed as feed_rows
from tests.adapters.local.room import is_clip, join, send, until
from tests.adapters.local.tabs import Frame
from tests.feed_rows import posted_clip

LOBBY = ChatRef("local", "lobby", "Local chat")


def listed(text: str) -> list[int]:
    return [int(re.findall(r"#(\d+)", line)[0]) for line in text.splitlines() if "“" in line]


def answer_to(request: Frame) -> object:
    return lambda f: f["type"] == "message" and f["message"]["reply_to"] == request["id"]


async def press(ws: aiohttp.ClientWebSocketResponse, message: Frame, payload: str) -> None:
    await ws.send_json(
        {"type": "press", "payload": payload, "message_id": message["id"], "panel": "room"}
    )


async def test_heart_remix_by_number_and_feed(
    http: aiohttp.ClientSession, services: Services
) -> None:
    ada = await join(http, "Ada", "u-ada-00001")
    bob = await join(http, "Bob", "u-bob-00001")
    await send(ada, "/sora a frog on a unicycle")
    clip = (await until(ada, is_clip))["message"]
    clip_id = clip["data"]["clip_id"]
    assert clip["data"]["like"]

    await press(bob, clip, clip["data"]["like"])
    toast = await until(bob, lambda f: f["type"] in ("toast", "error"))
    assert toast == {"type": "toast", "text": f"❤️ You like #{clip_id} (1 in all)."}
    async with services.db.session() as session:
        assert await feed_rows.reaction_total(session, clip_id) == 1

    await send(bob, f"/remix {clip_id} make it rain")
    remix = (await until(bob, is_clip))["message"]
    assert remix["data"]["parent_clip_id"] == clip_id

    request = await send(ada, f"/feed #{clip_id}")
    answer = (await until(ada, answer_to(request)))["message"]
    assert listed(answer["text"]) == [clip_id, remix["data"]["clip_id"]]
    assert "❤️ 1" in answer["text"]


async def test_feed_answers_in_the_room_and_pages_in_place(
    http: aiohttp.ClientSession, services: Services
) -> None:
    ada_user = ChatUser("local", "u-ada-00001", "Ada", "ada")
    ids = [
        await posted_clip(services.db, LOBBY, ada_user, f"clip {n}", hours_old=20 - n)
        for n in range(10)
    ]
    ada = await join(http, "Ada", "u-ada-00001")
    request = await send(ada, "/feed new")
    answer = (await until(ada, answer_to(request)))["message"]
    assert listed(answer["text"]) == ids[::-1][:8]
    assert re.search(r"http://127\.0\.0\.1:\d+/f/\S+/", answer["text"])
    [more] = answer["data"]["choices"]
    await press(ada, answer, more["payload"])
    update = await until(
        ada, lambda f: f["type"] == "update" and f["message"]["id"] == answer["id"]
    )
    assert listed(update["message"]["text"]) == ids[::-1][8:]
    assert [c["label"] for c in update["message"]["data"]["choices"]] == ["◀ Previous"]

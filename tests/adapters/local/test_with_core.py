"""The local chat wired to the real core, queue and sketch engine, as `clipcrew serve` runs it:
a command typed in one tab becomes a live status, then a playable clip that every tab sees; a
cameo is enrolled from a private panel and approved there before a friend's clip uses it."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from adapters.local.uploads import USER_HEADER
from tests.adapters.local.room import is_clip, join, send, until
from tests.adapters.local.tabs import Frame


async def test_a_clip_and_its_remix_through_the_real_core(http: aiohttp.ClientSession) -> None:
    ada = await join(http, "Ada", "u-ada-00001")
    bob = await join(http, "Bob", "u-bob-00001")
    request = await send(ada, '/sora a cat says "hello"')

    seen: list[Frame] = []
    clip = (await until(ada, is_clip, seen))["message"]
    status = next(f["message"] for f in seen if f["type"] == "message")
    assert status["kind"] == "notice" and status["reply_to"] == request["id"]
    progress = [f["message"]["data"] for f in seen if f["type"] == "update"]
    assert progress and all(p["kind"] == "progress" for p in progress)
    assert clip["reply_to"] == request["id"]
    assert clip["text"].startswith(f'#{clip["data"]["clip_id"]} “a cat says "hello"” by @ada')
    # The status message goes once the clip is up (just before it, or after it).
    gone = {"type": "delete", "id": status["id"]}
    if gone not in seen:
        await until(ada, lambda f: f == gone)

    async with http.get(clip["data"]["url"], headers={"Range": "bytes=0-7"}) as response:
        assert response.status == 206
        assert (await response.read())[4:8] == b"ftyp"

    # Bob saw the same clip, and a reply to it is a remix.
    assert (await until(bob, is_clip))["message"]["id"] == clip["id"]
    await send(bob, "/sora make it rain", reply_to=clip["id"])
    remix = (await until(bob, is_clip))["message"]
    assert remix["data"]["parent_clip_id"] == clip["data"]["clip_id"]
    assert f"(remix of #{clip['data']['clip_id']})" in remix["text"]


@pytest.mark.parametrize(("text", "expected"), [("/sora", "Usage: /sora"), ("/dance", "/dance")])
async def test_usage_and_unknown_commands_are_answered(
    http: aiohttp.ClientSession, text: str, expected: str
) -> None:
    ada = await join(http, "Ada", "u-ada-00001")
    request = await send(ada, text)
    answer = (await until(ada, lambda f: f["type"] == "message"))["message"]
    assert answer["reply_to"] == request["id"]
    assert answer["data"]["kind"] == "usage"
    assert expected in answer["text"]


def is_private(kind: str = "message") -> Any:
    return lambda f: f["type"] == kind and f.get("panel") == "private"


async def test_a_cameo_from_enrollment_to_an_approved_clip(http: aiohttp.ClientSession) -> None:
    from tests.engine.faces.clips import head_turn

    alice = await join(http, "Alice", "u-alice-0001")
    bob = await join(http, "Bob", "u-bob-00001")

    # 1. Alice asks for a cameo in the room; the steps come to her private panel.
    await send(alice, "/cameo")
    steps = (await until(alice, is_private()))["message"]
    assert "say your code" in steps["text"]
    told = await until(alice, lambda f: f["type"] == "message" and "panel" not in f)
    assert "direct message" in told["message"]["text"]

    # 2. She uploads her selfie clip from the panel.
    async with http.post(
        "/selfie",
        data=head_turn(),
        headers={USER_HEADER: "u-alice-0001", "Content-Type": "video/mp4"},
    ) as response:
        answer = await response.json()
    assert response.status == 200, answer
    assert "cameo is ready" in answer["text"]

    # 3. Bob puts her in a clip; she is asked, with three buttons, in her panel only.
    await send(bob, "/sora dancing @alice")
    asked = await until(alice, lambda f: is_private()(f) and f["message"]["data"].get("choices"))
    request = asked["message"]
    assert "@bob" in request["text"] and "dancing @alice" in request["text"]
    labels = [choice["label"] for choice in request["data"]["choices"]]
    assert len(labels) == 3 and "Approve once" in labels[0]

    # 4. She approves once; she hears so, and Bob's clip is made.
    await alice.send_json(
        {
            "type": "press",
            "payload": request["data"]["choices"][0]["payload"],
            "message_id": request["id"],
            "panel": "private",
        }
    )
    toast = await until(alice, lambda f: f["type"] in ("toast", "error"))
    assert toast["type"] == "toast", toast
    clip = (await until(bob, is_clip))["message"]
    assert "dancing @alice" in clip["text"] and "featuring @alice" in clip["text"]

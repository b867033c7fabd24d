"""The real aiohttp app over real HTTP and real WebSockets, with a recording core behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.local.server import LOCAL_CHAT, create_app, start_local_chat
from bot.commands import Generate, Help, Unknown
from bot.replies import ClipReady, Progress
from bot.types import ChatUser, MessageRef
from storage.blob_stores import open_blobs
from storage.blobs import BlobConfig, BlobStore
from tests.adapters.local.fakes import RecordingCore, tiny_mp4
from tests.adapters.local.tabs import join, next_frame, say


@pytest.fixture
async def client(core: RecordingCore, blobs: BlobStore) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(core, blobs, command="sora"))) as client:
        yield client


# ---- Plain HTTP --------------------------------------------------------------------------


async def test_healthz_page_and_assets(client: TestClient[Any, Any]) -> None:
    health = await client.get("/healthz")
    assert health.status == 200 and await health.text() == "ok"
    page = await client.get("/")
    assert page.status == 200
    assert "<dialog" in await page.text()
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for asset, kind in [("app.js", "javascript"), ("render.js", "javascript"), ("app.css", "css")]:
        response = await client.get(f"/static/{asset}")
        assert response.status == 200 and kind in response.headers["Content-Type"]


async def test_clips_are_served_with_ranges(client: TestClient[Any, Any], blobs: BlobStore) -> None:
    video = tiny_mp4()
    key = await blobs.put(video, "mp4")
    whole = await client.get(f"/clips/{key}")
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "video/mp4"
    assert await whole.read() == video
    part = await client.get(f"/clips/{key}", headers={"Range": "bytes=0-99"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(video)}"
    assert await part.read() == video[:100]


async def test_clips_in_a_bucket_are_read_and_served_with_ranges(
    core: RecordingCore, s3_config: BlobConfig
) -> None:
    blobs = open_blobs(s3_config)  # no local file to hand over: the server reads the bytes
    video = tiny_mp4()
    key = await blobs.put(video, "mp4")
    async with TestClient(TestServer(create_app(core, blobs, command="sora"))) as client:
        whole = await client.get(f"/clips/{key}")
        assert whole.status == 200 and whole.headers["Content-Type"] == "video/mp4"
        assert await whole.read() == video
        part = await client.get(f"/clips/{key}", headers={"Range": "bytes=10-109"})
        assert part.status == 206
        assert part.headers["Content-Range"] == f"bytes 10-109/{len(video)}"
        assert await part.read() == video[10:110]
        tail = await client.get(f"/clips/{key}", headers={"Range": "bytes=-50"})
        assert tail.status == 206 and await tail.read() == video[-50:]
        beyond = await client.get(f"/clips/{key}", headers={"Range": f"bytes={len(video)}-"})
        assert beyond.status == 416
        for path in ["/clips/" + "0" * 64 + ".mp4", "/clips/clip.mp4"]:
            assert (await client.get(path)).status == 404


@pytest.mark.parametrize(
    "path",
    [
        "/clips/" + "0" * 64 + ".mp4",  # the right shape, not stored
        "/clips/clip.mp4",
        "/clips/..%2F..%2Fsecret.mp4",
        "/clips/%2e%2e%2fsecret.mp4",
        "/clips/" + "a" * 64 + ".txt",
    ],
)
async def test_clips_outside_the_store_are_not_found(
    client: TestClient[Any, Any], blobs: BlobStore, path: str
) -> None:
    (blobs.root.parent / "secret.mp4").write_bytes(b"not yours")
    response = await client.get(path)
    assert response.status == 404
    assert b"not yours" not in await response.read()


# ---- The socket ---------------------------------------------------------------------------


async def test_plain_text_is_chat_and_reaches_everyone(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    ada, _ = await join(client)
    bob, _ = await join(client, "  Bob  ", "u-bob-00001")
    sent = await say(ada, "hello everyone <b>!</b>")
    seen = (await next_frame(bob, "message"))["message"]
    assert seen == sent
    assert sent["kind"] == "chat"
    assert sent["text"] == "hello everyone <b>!</b>"
    assert sent["author"] == {"id": "u-ada-00001", "name": "Ada", "bot": False}
    assert core.commands == []


async def test_a_command_goes_to_the_core_and_its_answer_to_the_room(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    ada, _ = await join(client)
    request = await say(ada, '/sora a cat says "hello"')
    status = (await next_frame(ada, "message"))["message"]

    (command,) = core.commands
    assert command == Generate(
        prompt='a cat says "hello"',
        author=ChatUser(
            platform="local", user_id="u-ada-00001", display_name="Ada", username="ada"
        ),
        chat=LOCAL_CHAT,
        message=MessageRef(LOCAL_CHAT, request["id"]),
    )
    assert status["kind"] == "notice" and status["data"]["kind"] == "queued"
    assert status["reply_to"] == request["id"]
    assert status["quote"]["author"] == "Ada"


async def test_a_job_plays_out_live_and_a_reply_to_the_clip_is_a_remix(
    client: TestClient[Any, Any], core: RecordingCore, blobs: BlobStore
) -> None:
    ada, _ = await join(client)
    bob, _ = await join(client, "Bob", "u-bob-00001")
    request = await say(ada, "/sora a cat")
    await next_frame(ada, "message")  # the status
    assert core.port is not None
    (status,) = core.statuses

    # What the core's event loop does as the worker reports.
    await core.port.edit(status, Progress(job_id="job-1", percent=55, stage="drawing frames"))
    video = tiny_mp4()
    clip = ClipReady(
        job_id="job-1",
        clip_id=7,
        blob_key=await blobs.put(video, "mp4"),
        prompt="a cat",
        author="Ada",
        width=64,
        height=64,
        duration_s=0.5,
        size_bytes=len(video),
    )
    clip_ref = await core.port.send_clip(
        LOCAL_CHAT, clip, video, reply_to=MessageRef(LOCAL_CHAT, request["id"])
    )
    await core.port.delete(status)

    for ws in (ada, bob):
        update = (await next_frame(ws, "update"))["message"]
        assert update["data"]["percent"] == 55 and update["edited"] is True
        shown = (await next_frame(ws, "message"))["message"]
        assert shown["kind"] == "clip" and shown["id"] == clip_ref.message_id
        assert (await next_frame(ws, "delete"))["id"] == status.message_id
    served = await client.get(shown["data"]["url"])
    assert await served.read() == video

    remix = await say(bob, "/sora make it rain", reply_to=clip_ref.message_id)
    assert remix["quote"]["clip_id"] == 7 and remix["quote"]["text"] == "a cat"
    assert core.commands[-1] == Generate(
        prompt="make it rain",
        author=ChatUser(
            platform="local", user_id="u-bob-00001", display_name="Bob", username="bob"
        ),
        chat=LOCAL_CHAT,
        message=MessageRef(LOCAL_CHAT, remix["id"]),
        reply_to=clip_ref,
    )


async def test_a_new_tab_gets_the_recent_history(client: TestClient[Any, Any]) -> None:
    ada, welcome = await join(client)
    assert welcome["history"] == []
    assert welcome["command"] == "sora"
    assert welcome["room"] == {"id": "lobby", "title": "Local chat"}
    first = await say(ada, "one")
    await say(ada, "/sora a dog")
    status = (await next_frame(ada, "message"))["message"]
    _, later = await join(client, "Bob", "u-bob-00001")
    assert [m["id"] for m in later["history"]] == [first["id"], status["reply_to"], status["id"]]


async def test_help_and_unknown_commands_reach_the_core(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    ada, _ = await join(client)
    for text in ("/help", "/dance"):
        request = await say(ada, text)
        answer = (await next_frame(ada, "message"))["message"]
        assert answer["reply_to"] == request["id"] and answer["data"]["kind"] == "usage"
    assert [type(c) for c in core.commands] == [Help, Unknown]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "bad_json"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "send", "text": "' + "x" * 10_001 + '"}', "too_long"),
        ('{"type": "hello", "name": "", "user_id": "u-ada-00001"}', "bad_name"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_lives_on(
    client: TestClient[Any, Any], frame: str, code: str
) -> None:
    ada, _ = await join(client)
    await ada.send_str(frame)
    error = await next_frame(ada, "error")
    assert error["code"] == code and error["error"]
    assert (await say(ada, "still here"))["text"] == "still here"


async def test_binary_frames_are_refused(client: TestClient[Any, Any]) -> None:
    ada, _ = await join(client)
    await ada.send_bytes(b"\x00\x01")
    assert (await next_frame(ada, "error"))["code"] == "bad_frame"


async def test_sending_before_hello_is_refused(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "send", "text": "/sora a cat"})
    assert (await next_frame(ws, "error"))["code"] == "no_hello"
    assert core.commands == []


async def test_a_failing_core_is_reported_not_fatal(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    core.fail_with = RuntimeError("boom")
    ada, _ = await join(client)
    await say(ada, "/sora a cat")
    error = await next_frame(ada, "error")
    assert error["code"] == "internal" and "boom" not in error["error"]
    assert (await say(ada, "still here"))["text"] == "still here"


async def test_presence_counts_tabs(client: TestClient[Any, Any]) -> None:
    ada, _ = await join(client)
    bob, _ = await join(client, "Bob", "u-bob-00001")
    assert (await next_frame(ada, "presence"))["online"] == 2
    await bob.close()
    assert (await next_frame(ada, "presence"))["online"] == 1


async def test_sockets_from_other_sites_are_refused(client: TestClient[Any, Any]) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await client.ws_connect("/ws", origin="https://evil.example")
    assert caught.value.status == 403
    own = await client.ws_connect("/ws", origin=f"http://{client.host}:{client.port}")
    assert (await next_frame(own, "welcome"))["type"] == "welcome"


async def test_start_local_chat_on_a_free_port(core: RecordingCore, blobs: BlobStore) -> None:
    runner, url = await start_local_chat(core, blobs, host="127.0.0.1", port=0, command="sora")
    try:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "healthz") as response:
                assert await response.text() == "ok"
            ws = await session.ws_connect(url + "ws")
            await next_frame(ws, "welcome")
            await runner.cleanup()
            # Shutting down closes open sockets instead of waiting on them.
            closing = await ws.receive(timeout=5)
            while closing.type is aiohttp.WSMsgType.TEXT:
                closing = await ws.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    finally:
        await runner.cleanup()


async def test_a_port_in_use_is_a_clear_error(core: RecordingCore, blobs: BlobStore) -> None:
    runner, url = await start_local_chat(core, blobs, host="127.0.0.1", port=0, command="sora")
    try:
        taken = int(url.rstrip("/").rpartition(":")[2])
        with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1"):
            await start_local_chat(core, blobs, host="127.0.0.1", port=taken, command="sora")
    finally:
        await runner.cleanup()

"""Each person's private panel (the local chat's direct messages), over real HTTP and real
WebSockets with a recording core: what the bot sends one person reaches only their tabs and waits
for them; `/cameo` is a command; a selfie upload is read only up to the cap; a button press in
the panel is a consent answer from whoever pressed it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.local.people import private_chat
from adapters.local.server import LOCAL_CHAT
from adapters.local.uploads import USER_HEADER, SelfieTooLarge, read_capped
from bot.callbacks import Button, sign
from bot.commands import AnswerConsent, CameoCommand, DeleteClip, Reroll, SelfieUpload
from bot.ports import CannotDM
from bot.replies import Choice, Note
from bot.types import ChatUser, MessageRef
from tests.adapters.local.fakes import RecordingCore, tiny_mp4
from tests.adapters.local.panel import ALICE, CAP, SECRET, panel_client
from tests.adapters.local.tabs import WS, Frame, enter, join, next_frame, private_frame, say

BOB = ChatUser("local", "u-bob-00001", "Bob", "bob")
CONSENT = Note(
    "@bob wants to put you in a clip: “dancing @alice”.",
    choices=(
        Choice("Approve once", Button("approve", 41)),
        Choice("Always allow @bob", Button("always", 41)),
        Choice("Deny", Button("deny", 41)),
    ),
)


client = pytest.fixture(panel_client, name="client")


async def nothing_more(ws: WS) -> list[Frame]:
    """Frames still coming within a moment, presence counts aside."""
    frames: list[Frame] = []
    while True:
        try:
            frame: Frame = await ws.receive_json(timeout=0.2)
        except TimeoutError:
            return frames
        if frame["type"] != "presence":
            frames.append(frame)


def port(core: RecordingCore) -> Any:
    assert core.port is not None
    return core.port


# ---- Direct messages ---------------------------------------------------------------------


async def test_joining_gives_a_username(client: TestClient[Any, Any]) -> None:
    _, joined = await enter(client, ALICE)
    assert joined["user"] == {"id": ALICE.user_id, "name": "Alice", "username": "alice"}
    assert joined["private"] == []
    _, other = await enter(client, ChatUser("local", "u-alice-0002", "alice", None))
    assert other["user"]["username"] == "alice2"


async def test_a_dm_reaches_only_that_persons_tabs_and_waits_for_new_ones(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    # The same person in a second tab (a duplicated tab keeps its sessionStorage).
    alice_again, _ = await enter(client, ALICE)
    bob, _ = await enter(client, BOB)

    ref = await port(core).dm(ALICE, CONSENT)

    assert ref.chat == private_chat(ALICE)
    for ws in (alice, alice_again):
        shown = (await private_frame(ws))["message"]
        assert shown["id"] == ref.message_id and shown["text"] == CONSENT.text
        assert [c["label"] for c in shown["data"]["choices"]] == [
            "Approve once",
            "Always allow @bob",
            "Deny",
        ]
    assert await nothing_more(bob) == []

    # Alice closes every tab; the next one she opens is handed what she missed.
    await alice.close()
    await alice_again.close()
    later = await port(core).dm(ALICE, Note("Your cameo was used in #7."))
    _, joined = await enter(client, ALICE)
    assert [m["id"] for m in joined["private"]] == [ref.message_id, later.message_id]
    # ...and the room itself never showed any of it.
    _, bobs_view = await join(client, "Bob", BOB.user_id)
    assert bobs_view["history"] == []


async def test_a_dm_to_someone_never_seen_cannot_be_sent(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    await enter(client, ALICE)
    with pytest.raises(CannotDM) as caught:
        await port(core).dm(BOB, CONSENT)
    assert caught.value.handle == "@bob"


# ---- /cameo --------------------------------------------------------------------------------


async def test_cameo_in_the_room_is_answered_in_private(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    bob, _ = await enter(client, BOB)
    request = await say(alice, "/cameo")

    assert core.commands == [
        CameoCommand(
            args="", author=ALICE, chat=LOCAL_CHAT, message=MessageRef(LOCAL_CHAT, request["id"])
        )
    ]
    answer = (await private_frame(alice))["message"]
    assert answer["text"].startswith("Your code is 1234")
    assert [f for f in await nothing_more(bob) if f.get("panel")] == []


async def test_cameo_typed_in_the_private_panel(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    bob, _ = await enter(client, BOB)
    await alice.send_json({"type": "send", "text": "/cameo audience", "panel": "private"})
    typed = (await private_frame(alice))["message"]
    assert typed["kind"] == "chat" and typed["author"]["id"] == ALICE.user_id

    (command,) = core.commands
    chat = private_chat(ALICE)
    assert command == CameoCommand(
        args="audience", author=ALICE, chat=chat, message=MessageRef(chat, typed["id"])
    )
    assert (await private_frame(alice))["message"]["data"]["kind"] == "note"
    assert await nothing_more(bob) == []


# ---- Selfie uploads -------------------------------------------------------------------------


async def test_an_upload_becomes_a_selfie_whose_fetch_reads_it(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    video = tiny_mp4()
    assert len(video) <= CAP
    response = await client.post(
        "/selfie", data=video, headers={USER_HEADER: ALICE.user_id, "Content-Type": "video/mp4"}
    )
    assert response.status == 200
    assert (await response.json())["text"] == f"Got {len(video)} bytes."

    (upload,) = core.commands
    assert isinstance(upload, SelfieUpload)
    assert upload.author == ALICE and upload.chat == private_chat(ALICE)
    assert upload.size_bytes == len(video)
    assert core.fetched == [video]
    shown = (await private_frame(alice))["message"]
    assert upload.message == MessageRef(private_chat(ALICE), shown["id"])
    assert shown["text"].startswith("📹") and shown["author"]["id"] == ALICE.user_id
    answer = (await private_frame(alice))["message"]
    assert answer["reply_to"] == shown["id"] and answer["text"] == f"Got {len(video)} bytes."


async def test_an_upload_over_the_cap_is_cut_off(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    # The recording core reads whatever the stated size (the real one refuses it unread).
    response = await client.post(
        "/selfie",
        data=b"x" * (5 * CAP),
        headers={USER_HEADER: ALICE.user_id, "Content-Type": "video/webm"},
    )
    assert response.status == 413
    assert "over 0.01 MB" in (await response.json())["text"]
    (upload,) = core.commands
    assert isinstance(upload, SelfieUpload) and upload.size_bytes == 5 * CAP
    (error,) = core.fetched
    assert isinstance(error, SelfieTooLarge)
    await private_frame(alice)  # the upload itself
    refusal = (await private_frame(alice))["message"]
    assert refusal["data"]["kind"] == "refused" and "over 0.01 MB" in refusal["text"]


async def test_an_upload_must_state_its_size(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    await enter(client, ALICE)

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 1000

    response = await client.post(
        "/selfie", data=chunked(), headers={USER_HEADER: ALICE.user_id, "Content-Type": "video/mp4"}
    )
    assert response.status == 411
    assert core.commands == []


class CountingBody:
    """A request body of `size` bytes that counts how much was taken from it."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.taken = 0

    async def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        self.taken += n
        return b"v" * n


async def test_reading_stops_one_byte_past_the_cap() -> None:
    huge = CountingBody(25_000_000)
    with pytest.raises(SelfieTooLarge):
        await read_capped(huge, limit_bytes=1_000_000)
    assert huge.taken == 1_000_001
    exact = CountingBody(1_000_000)
    assert len(await read_capped(exact, limit_bytes=1_000_000)) == 1_000_000


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "video/mp4"}, 403),  # nobody named
        ({USER_HEADER: "u-never-seen", "Content-Type": "video/mp4"}, 403),
        ({USER_HEADER: ALICE.user_id, "Content-Type": "text/html"}, 415),
        (
            {
                USER_HEADER: ALICE.user_id,
                "Content-Type": "video/mp4",
                "Origin": "https://evil.example",
            },
            403,
        ),
    ],
)
async def test_uploads_that_are_refused_at_the_door(
    client: TestClient[Any, Any], core: RecordingCore, headers: dict[str, str], status: int
) -> None:
    await enter(client, ALICE)
    response = await client.post("/selfie", data=b"\x00" * 100, headers=headers)
    assert response.status == status
    assert core.commands == []


# ---- Buttons ---------------------------------------------------------------------------------


async def test_a_consent_press_in_the_panel_is_answered_to_the_presser(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    bob, _ = await enter(client, BOB)
    ref = await port(core).dm(ALICE, CONSENT)
    request = (await private_frame(alice))["message"]
    approve = request["data"]["choices"][0]["payload"]

    await alice.send_json(
        {"type": "press", "payload": approve, "message_id": request["id"], "panel": "private"}
    )
    # The core's edit took the buttons away; then its answer came back to the presser.
    edited = (await private_frame(alice, "update"))["message"]
    assert edited["id"] == ref.message_id and edited["data"]["choices"] == []
    toast = await next_frame(alice, "toast")
    assert toast["text"] == "You answered approve."
    assert core.commands == [
        AnswerConsent(approval_id=41, answer="approve", author=ALICE, chat=ref.chat, message=ref)
    ]
    assert await nothing_more(bob) == []


async def test_a_forged_press_is_refused(client: TestClient[Any, Any], core: RecordingCore) -> None:
    alice, _ = await enter(client, ALICE)
    forged = sign(Button("approve", 41), chat_id="x", secret=b"not the server's")
    await alice.send_json(
        {"type": "press", "payload": forged, "message_id": "m-1", "panel": "private"}
    )
    error = await next_frame(alice, "error")
    assert error["code"] == "bad_button" and "isn't valid" in error["error"]
    assert core.commands == []


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        (Button("delete", 7), DeleteClip(ALICE, LOCAL_CHAT, 7, MessageRef(LOCAL_CHAT, "m-1"))),
        (Button("reroll", 7), Reroll(ALICE, LOCAL_CHAT, 7, MessageRef(LOCAL_CHAT, "m-1"))),
    ],
)
async def test_clip_buttons_in_the_room(
    client: TestClient[Any, Any], core: RecordingCore, button: Button, expected: object
) -> None:
    alice, _ = await enter(client, ALICE)
    payload = sign(button, chat_id=LOCAL_CHAT.chat_id, secret=SECRET)
    await alice.send_json({"type": "press", "payload": payload, "message_id": "m-1"})
    await next_frame(alice, "toast")
    assert core.commands == [expected]
    # A clip button is bound to its chat: the same payload pressed in a panel is refused.
    await alice.send_json(
        {"type": "press", "payload": payload, "message_id": "m-1", "panel": "private"}
    )
    assert (await next_frame(alice, "error"))["code"] == "bad_button"


async def test_a_remix_press_explains_how_to_remix(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    payload = sign(Button("remix", 7), chat_id=LOCAL_CHAT.chat_id, secret=SECRET)
    await alice.send_json({"type": "press", "payload": payload, "message_id": "m-1"})
    assert "/sora" in (await next_frame(alice, "toast"))["text"]
    assert core.commands == []

"""The port as the core sees it: post, edit, delete and send_clip change the room, and every
change reaches every listener as one frame; dm() writes to one person's private panel, and a
note's choices become signed buttons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.local.people import People
from adapters.local.port import LocalPort, WrongChat
from adapters.local.room import Author, Room, RoomMessage
from adapters.local.server import LOCAL_CHAT
from adapters.local.session import Outbox
from bot.callbacks import Button, verify
from bot.ports import CannotDM
from bot.replies import Choice, ClipReady, Failed, Note, Progress, Queued
from bot.types import ChatRef, ChatUser, MessageRef
from storage.blobs import BlobStore
from tests.adapters.local.fakes import tiny_mp4

SECRET = b"test-secret"


class Tab:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def send(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)


def clip_ready(key: str, *, clip_id: int = 12, parent: int | None = None) -> ClipReady:
    return ClipReady(
        job_id="j",
        clip_id=clip_id,
        blob_key=key,
        prompt="a cat",
        author="Ada",
        width=64,
        height=64,
        duration_s=0.5,
        size_bytes=2000,
        parent_clip_id=parent,
    )


@pytest.fixture
def room() -> Room:
    return Room(LOCAL_CHAT)


@pytest.fixture
def people() -> People:
    return People()


@pytest.fixture
def port(room: Room, blobs: BlobStore, people: People) -> LocalPort:
    return LocalPort(room, blobs, people=people, secret=SECRET)


def test_capabilities() -> None:
    assert LocalPort.platform == "local"
    assert LocalPort.capabilities.edits and LocalPort.capabilities.deletes
    assert LocalPort.capabilities.max_upload_bytes is None
    assert 0 < LocalPort.capabilities.min_edit_interval_s <= 0.5


async def test_post_edit_delete_reach_every_tab(room: Room, port: LocalPort) -> None:
    tabs = [Tab(), Tab()]
    for tab in tabs:
        room.listen(tab)
    status = await port.post(
        LOCAL_CHAT, Queued(job_id="j", position=0, prompt="a cat"), reply_to=None
    )
    await port.edit(status, Progress(job_id="j", percent=40, stage="drawing"))
    await port.delete(status)

    for tab in tabs:
        assert [f["type"] for f in tab.frames] == ["message", "update", "delete"]
    posted, edited, deleted = tabs[0].frames
    assert posted["message"]["kind"] == "notice"
    assert posted["message"]["author"]["bot"] is True
    assert posted["message"]["data"]["kind"] == "queued"
    assert edited["message"]["data"] == {
        "kind": "progress",
        "job_id": "j",
        "percent": 40,
        "stage": "drawing",
        "eta_s": None,
    }
    assert edited["message"]["text"] == Progress(job_id="j", percent=40, stage="drawing").text
    assert deleted == {"type": "delete", "id": status.message_id}
    assert room.get(status.message_id) is None


async def test_a_reply_quotes_the_message_it_answers(room: Room, port: LocalPort) -> None:
    command = RoomMessage(
        id=room.new_id(), kind="chat", author=Author("u1", "Ada"), text="/sora " + "long " * 60
    )
    room.add(command)
    failed = await port.post(
        LOCAL_CHAT, Failed("The renderer fell over."), reply_to=MessageRef(LOCAL_CHAT, command.id)
    )
    shown = room.get(failed.message_id)
    assert shown is not None and shown.quote is not None
    assert shown.reply_to == command.id
    assert shown.quote["author"] == "Ada"
    assert shown.quote["text"].endswith("…") and len(shown.quote["text"]) <= 121
    assert shown.text == "⚠️ The renderer fell over."


async def test_editing_or_deleting_a_forgotten_message_is_harmless(
    room: Room, port: LocalPort
) -> None:
    shown = RoomMessage(id=room.new_id(), kind="chat", author=Author("u1", "Ada"), text="hi")
    room.add(shown)
    tab = Tab()
    room.listen(tab)
    gone = MessageRef(LOCAL_CHAT, "old-1")
    await port.edit(gone, Progress(job_id="j", percent=50, stage="x"))
    await port.delete(gone)
    # No error, no frame to any tab, no message made up in its place, the rest left alone.
    assert tab.frames == []
    assert room.get("old-1") is None
    assert [m["id"] for m in room.history()] == [shown.id]


async def test_send_clip_links_the_stored_blob(
    room: Room, port: LocalPort, blobs: BlobStore
) -> None:
    video = tiny_mp4()
    key = await blobs.put(video, "mp4")
    ref = await port.send_clip(LOCAL_CHAT, clip_ready(key, parent=3), video, reply_to=None)
    shown = room.get(ref.message_id)
    assert shown is not None and shown.data is not None
    assert shown.kind == "clip"
    assert shown.data["url"] == f"/clips/{key}"
    assert shown.data["clip_id"] == 12 and shown.data["parent_clip_id"] == 3
    assert shown.text == "#12 “a cat” by Ada (remix of #3)"


async def test_send_clip_keeps_its_own_copy_when_the_blob_is_elsewhere(
    room: Room, port: LocalPort, blobs: BlobStore, tmp_path: Path
) -> None:
    video = tiny_mp4()
    elsewhere = await BlobStore(tmp_path / "worker-blobs").put(video, "mp4")
    ref = await port.send_clip(LOCAL_CHAT, clip_ready(elsewhere), video, reply_to=None)
    assert await blobs.read(elsewhere) == video
    shown = room.get(ref.message_id)
    assert shown is not None and shown.data is not None
    assert shown.data["url"] == f"/clips/{elsewhere}"


async def test_another_chat_is_refused(port: LocalPort) -> None:
    with pytest.raises(WrongChat):
        await port.post(ChatRef("local", "elsewhere"), Failed("x"), reply_to=None)
    with pytest.raises(WrongChat):
        await port.delete(MessageRef(ChatRef("telegram", "lobby"), "1"))


def test_history_keeps_the_most_recent_messages() -> None:
    room = Room(LOCAL_CHAT, history_limit=3)
    ids = []
    for n in range(5):
        message = RoomMessage(
            id=room.new_id(), kind="chat", author=Author("u1", "Ada"), text=str(n)
        )
        room.add(message)
        ids.append(message.id)
    assert [m["id"] for m in room.history()] == ids[-3:]


def test_a_new_room_never_reuses_message_ids() -> None:
    # A restarted server must not hand out an id the core has already tied to a clip.
    first, second = Room(LOCAL_CHAT), Room(LOCAL_CHAT)
    assert first.new_id() != second.new_id()


def test_a_tab_that_falls_behind_is_marked_for_dropping() -> None:
    # The writer never runs here, as with a browser that stopped reading.
    outbox = Outbox(ws=None, limit=2)  # type: ignore[arg-type]
    room = Room(LOCAL_CHAT)
    room.listen(outbox)
    for n in range(3):
        room.add(RoomMessage(id=room.new_id(), kind="chat", author=Author("u1", "A"), text=str(n)))
    assert outbox.overflowed


CONSENT = Note(
    "@bob wants to put you in a clip: “dancing @alice”.",
    choices=(
        Choice("Approve once", Button("approve", 41)),
        Choice("Always allow @bob", Button("always", 41)),
        Choice("Deny", Button("deny", 41)),
    ),
)


async def test_dm_goes_to_that_persons_panel_only(
    room: Room, port: LocalPort, people: People
) -> None:
    alice = people.saw("u-alice-0001", "Alice")
    bob = people.saw("u-bob-00001", "Bob")
    in_room, alices_tab, bobs_tab = Tab(), Tab(), Tab()
    room.listen(in_room)
    alice.panel.listen(alices_tab)
    bob.panel.listen(bobs_tab)

    ref = await port.dm(alice.user, CONSENT)

    assert ref.chat == alice.panel.chat and ref.chat.chat_id == "dm-u-alice-0001"
    assert in_room.frames == [] and bobs_tab.frames == []
    (frame,) = alices_tab.frames
    shown = frame["message"]
    assert shown["text"] == CONSENT.text and shown["author"]["bot"] is True
    labels = [choice["label"] for choice in shown["data"]["choices"]]
    assert labels == ["Approve once", "Always allow @bob", "Deny"]
    buttons = [
        verify(choice["payload"], chat_id=ref.chat.chat_id, secret=SECRET)
        for choice in shown["data"]["choices"]
    ]
    assert buttons == [choice.button for choice in CONSENT.choices]
    # Kept for a tab that opens later.
    assert [m["id"] for m in alice.panel.history()] == [ref.message_id]


async def test_dm_to_someone_never_seen_cannot_be_sent(port: LocalPort) -> None:
    stranger = ChatUser("local", "u-nobody-01", "Nobody", "nobody")
    with pytest.raises(CannotDM) as caught:
        await port.dm(stranger, CONSENT)
    assert caught.value.handle == "@nobody"
    with pytest.raises(CannotDM):
        await port.dm(ChatUser("telegram", "u-nobody-01", "Nobody"), CONSENT)


async def test_a_note_can_be_edited_to_drop_its_buttons_and_posted_in_a_panel(
    port: LocalPort, people: People
) -> None:
    alice = people.saw("u-alice-0001", "Alice")
    ref = await port.dm(alice.user, CONSENT)
    await port.edit(ref, Note("✅ Approved once."))
    shown = alice.panel.get(ref.message_id)
    assert shown is not None and shown.data == {
        "kind": "note",
        "text": "✅ Approved once.",
        "choices": [],
    }
    answer = await port.post(alice.panel.chat, Note("Thanks!"), reply_to=ref)
    posted = alice.panel.get(answer.message_id)
    assert posted is not None and posted.quote is not None and posted.reply_to == ref.message_id


async def test_a_private_panel_of_someone_unseen_is_another_chat(port: LocalPort) -> None:
    with pytest.raises(WrongChat):
        await port.post(ChatRef("local", "dm-u-nobody-01"), Note("hi"), reply_to=None)


def test_usernames_are_derived_unique_and_stable() -> None:
    people = People()
    ada = people.saw("u-ada-000001", "Ada Lovelace")
    assert ada.user.username == "ada_lovelace" and ada.user.handle == "@ada_lovelace"
    other = people.saw("u-ada-000002", "ADA  lovelace!")
    assert other.user.username == "ada_lovelace2"
    # A reconnect, or a rename to a name that spells the same, keeps it.
    assert people.saw("u-ada-000001", "Ada Lovelace").user.username == "ada_lovelace"
    assert people.saw("u-ada-000002", "Ada-Lovelace").user.username == "ada_lovelace2"
    assert people.saw("u-zoe-000001", "Zoë").user.username == "zoe"
    assert people.saw("u-kan-000001", "漢字").user.username == "user"
    assert people.saw("u-bot-000001", "clipcrew").user.username == "clipcrew2"
    # A rename takes a new username; the old one is not handed to anyone else.
    assert people.saw("u-ada-000001", "Countess").user.username == "countess"
    assert people.saw("u-ada-000003", "Ada Lovelace").user.username == "ada_lovelace3"

"""Cameos through the adapter alone (a recording core; PTB and the Bot API emulator are real):
direct messages with consent buttons, selfie videos sent privately, the presses on those
buttons, and Notes in posts and edits."""

from __future__ import annotations

import asyncio

import pytest

from adapters.telegram.port import TelegramPort
from bot.callbacks import Button, verify
from bot.commands import AnswerConsent, CameoCommand, Command, Help, SelfieUpload
from bot.ports import CannotDM
from bot.replies import Choice, Note, Refused
from bot.types import ChatRef, ChatUser, MessageRef
from tests.adapters.telegram.emulator import (
    ADA,
    BOB,
    CANT_INITIATE,
    CAROL,
    GROUP,
    BotApi,
    Call,
    Json,
    private,
)
from tests.adapters.telegram.fakes import RecordingCore, Respond

ADA_USER = ChatUser("telegram", "101", "Ada", "ada")
ADA_DM = ChatRef("telegram", "101", "Ada")
GROUP_CHAT = ChatRef("telegram", str(GROUP["id"]), "Meme lab")
SELFIE = b"\x00\x00\x00\x18ftypmp42 pretend this is a selfie clip"


def consent_request(approval_id: int = 7) -> Note:
    return Note(
        "🎭 @bob wants to put you in a clip: “a dance battle”.",
        (
            Choice("✅ Approve once", Button("approve", approval_id)),
            Choice("🤝 Always allow @bob", Button("always", approval_id)),
            Choice("🚫 Deny", Button("deny", approval_id)),
        ),
    )


def port_of(core: RecordingCore) -> TelegramPort:
    port = core.ports["telegram"]
    assert isinstance(port, TelegramPort)
    return port


def buttons(call: Call) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button a call sent, row by row."""
    rows = call.params["reply_markup"]["inline_keyboard"]
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def dm_consent_request(api: BotApi, core: RecordingCore) -> tuple[Json, dict[str, str]]:
    """Ada (who has a private chat with the bot) gets a consent request; returns the message
    and its buttons' data by action."""
    port = port_of(core)
    api.open_private(ADA)
    await port.dm(ADA_USER, consent_request())
    [sent] = api.of("sendMessage")
    data = {verify(d, chat_id="101", secret=port.secret).action: d for _, d in buttons(sent)}
    return sent.result, data


# 1. Direct messages ----------------------------------------------------------------------------


async def test_dm_goes_to_the_private_chat_with_three_signed_buttons(
    api: BotApi, core: RecordingCore
) -> None:
    port = port_of(core)
    api.open_private(ADA)
    message = await port.dm(ADA_USER, consent_request())

    [sent] = api.of("sendMessage")
    assert sent.params["chat_id"] == "101"  # a private chat's id is the person's id
    assert sent.params["text"] == consent_request().text
    assert [label for label, _ in buttons(sent)] == [
        "✅ Approve once",
        "🤝 Always allow @bob",
        "🚫 Deny",
    ]
    pressed = [verify(data, chat_id="101", secret=port.secret) for _, data in buttons(sent)]
    assert pressed == [Button("approve", 7), Button("always", 7), Button("deny", 7)]
    assert all(len(data.encode()) <= 64 for _, data in buttons(sent))
    assert message == MessageRef(ADA_DM, str(sent.result["message_id"]))


@pytest.mark.parametrize(
    ("setup", "status", "reason"),
    [
        ("never_started", 403, CANT_INITIATE),
        ("blocked", 403, "Forbidden: bot was blocked by the user"),
        ("unknown", 400, "Bad Request: chat not found"),
    ],
)
async def test_dm_that_telegram_refuses_is_cannot_dm(
    api: BotApi, core: RecordingCore, setup: str, status: int, reason: str
) -> None:
    bob = ChatUser("telegram", "102", "Bob", "bob")
    if setup == "blocked":
        api.open_private(BOB)
        api.block(BOB)
    elif setup == "unknown":
        bob = ChatUser("telegram", "555", "Bob", "bob")
    with pytest.raises(CannotDM) as refused:
        await port_of(core).dm(bob, consent_request())
    assert refused.value.handle == "@bob"
    [call] = api.of("sendMessage", ok_only=False)
    assert (call.status, call.result) == (status, reason)


# 2. /cameo and selfie videos -------------------------------------------------------------------


@pytest.mark.parametrize(("chat", "args"), [(GROUP, ""), (private(ADA), "revoke @bob")])
async def test_cameo_command_reaches_the_core(
    api: BotApi, core: RecordingCore, chat: Json, args: str
) -> None:
    sent = await api.say(chat, ADA, f"/cameo {args}".strip())
    command = await core.next()
    where = GROUP_CHAT if chat is GROUP else ADA_DM
    assert command == CameoCommand(
        args, ADA_USER, where, MessageRef(where, str(sent["message_id"]))
    )
    assert api.of("sendMessage") == []  # no "coming soon" any more: the core answers


def fetching(fetched: asyncio.Queue[bytes]) -> Respond:
    """The core's answer that, like the real core's for an acceptable size, downloads."""

    async def respond(command: Command) -> None:
        if isinstance(command, SelfieUpload):
            await fetched.put(await command.fetch())

    return respond


@pytest.mark.parametrize("kind", ["video", "video_note", "document"])
async def test_a_private_video_is_a_selfie_fetched_through_get_file(
    api: BotApi, core: RecordingCore, kind: str
) -> None:
    fetched: asyncio.Queue[bytes] = asyncio.Queue()
    core.respond = fetching(fetched)
    message = await api.send_video(ADA, SELFIE, kind=kind)

    command = await core.next()
    assert isinstance(command, SelfieUpload)
    assert (command.author, command.chat) == (ADA_USER, ADA_DM)
    assert command.size_bytes == len(SELFIE)
    assert command.message == MessageRef(ADA_DM, str(message["message_id"]))
    async with asyncio.timeout(5):
        assert await fetched.get() == SELFIE
    [get_file] = api.of("getFile")
    assert get_file.params["file_id"] == message[kind]["file_id"]
    [download] = api.of("download")
    assert download.params["file_path"] == get_file.result["file_path"]


async def test_a_video_over_20_mb_is_passed_on_unread(api: BotApi, core: RecordingCore) -> None:
    await api.send_video(ADA, SELFIE, size=25_000_000)
    command = await core.next()
    assert isinstance(command, SelfieUpload) and command.size_bytes == 25_000_000
    await api.say(private(ADA), ADA, "/help")  # handled after the video: it is long done
    assert isinstance(await core.next(), Help)
    assert api.of("getFile", ok_only=False) == []  # the core did not fetch; nor did the adapter


@pytest.mark.parametrize("where", ["group_video", "private_pdf"])
async def test_other_files_are_just_chat(api: BotApi, core: RecordingCore, where: str) -> None:
    if where == "group_video":
        await api.send_video(BOB, SELFIE, chat=GROUP)
    else:
        await api.send_video(BOB, b"%PDF-1.4", kind="document", mime_type="application/pdf")
    await api.say(private(BOB), BOB, "/help")
    assert isinstance(await core.next(), Help)
    assert core.commands.empty()


# 3. Consent buttons ----------------------------------------------------------------------------


async def answering(command: Command) -> Note | Refused:
    assert isinstance(command, AnswerConsent)
    if command.author.user_id != "101":
        return Refused(f"Only @ada can answer this, {command.author.handle}.")
    return Note(f"✅ Done: {command.answer}.")


async def test_consent_buttons_become_answers_and_the_alert_shows_the_reply(
    api: BotApi, core: RecordingCore
) -> None:
    core.respond = answering
    request, data = await dm_consent_request(api, core)
    dm = MessageRef(ADA_DM, str(request["message_id"]))

    for count, action in enumerate(["approve", "always", "deny"], start=1):
        await api.press(ADA, request, data[action])
        assert await core.next() == AnswerConsent(7, action, ADA_USER, ADA_DM, dm)
        alert = (await api.wait_for("answerCallbackQuery", count))[-1]
        assert alert.params["show_alert"] == "true"
        assert alert.params["text"] == f"✅ Done: {action}."


async def test_a_press_by_someone_else_is_passed_on_as_theirs(
    api: BotApi, core: RecordingCore
) -> None:
    core.respond = answering
    request, data = await dm_consent_request(api, core)
    await api.press(CAROL, request, data["approve"])

    command = await core.next()
    assert isinstance(command, AnswerConsent)
    assert command.author == ChatUser("telegram", "103", "Carol", None)
    [alert] = await api.wait_for("answerCallbackQuery")
    assert alert.params["text"] == "🙅 Only @ada can answer this, Carol."


async def test_an_altered_consent_button_never_reaches_the_core(
    api: BotApi, core: RecordingCore
) -> None:
    request, data = await dm_consent_request(api, core)
    await api.press(ADA, request, data["approve"].replace("ap:7:", "ap:8:"))
    [alert] = await api.wait_for("answerCallbackQuery")
    assert alert.params["text"].startswith("That button isn't valid here any more.")
    assert core.commands.empty()


# 4. Notes in posts and edits -------------------------------------------------------------------


async def test_notes_are_posted_and_edited_with_their_choices(
    api: BotApi, core: RecordingCore
) -> None:
    port = port_of(core)
    plain = await port.post(GROUP_CHAT, Note("⏳ waiting for @ada…"), reply_to=None)
    asking = await port.post(GROUP_CHAT, consent_request(3), reply_to=None)
    first, second = api.of("sendMessage")
    assert "reply_markup" not in first.params
    signed = [verify(d, chat_id=GROUP_CHAT.chat_id, secret=port.secret) for _, d in buttons(second)]
    assert [b.action for b in signed] == ["approve", "always", "deny"]

    await port.edit(plain, consent_request(3))  # an edit may add buttons...
    await port.edit(asking, Note("✅ Approved once."))  # ...and one without choices drops them
    with_buttons, without = api.of("editMessageText")
    assert len(buttons(with_buttons)) == 3
    assert "reply_markup" not in without.params
    shown = api.message(GROUP["id"], int(asking.message_id))
    assert (shown["text"], "reply_markup" in shown) == ("✅ Approved once.", False)
    assert "reply_markup" in api.message(GROUP["id"], int(plain.message_id))


async def test_links_exist_for_supergroup_messages_only(core: RecordingCore) -> None:
    port = port_of(core)
    assert port.link(MessageRef(GROUP_CHAT, "42")) == "https://t.me/c/123/42"
    assert port.link(MessageRef(ADA_DM, "42")) is None  # private chats have no links

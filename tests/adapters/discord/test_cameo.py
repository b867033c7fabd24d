"""Cameos on Discord, the adapter's side: `/cameo` with an action or a selfie video, the cameo
option of `/sora` and its autocomplete, DMs with consent buttons and their presses, and notes
with buttons. The core is `CameoCore` (fakes.py); test_cameo_flow.py runs the real one."""

from __future__ import annotations

import pytest

from adapters.discord import DiscordPort
from adapters.discord.actions import ANSWERED_BY_DM, PICK_A_CAMEO
from bot.callbacks import Button, verify
from bot.commands import AnswerConsent, CameoCommand, Generate, SelfieUpload
from bot.ports import CannotDM
from bot.replies import Choice, Note
from bot.types import ChatRef, ChatUser, MessageRef
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.fakes import APPROVED, SENT_A_DM, CameoCore, Suggestion
from tests.adapters.discord.interactions import autocomplete, press, slash

EPHEMERAL = 64
DEFERRED_EPHEMERAL = {"type": 5, "ephemeral": True}
REQUEST = Note(
    "@bob wants your cameo in “a cat DJ”.",
    choices=(
        Choice("✅ Approve once", Button("approve", 7)),
        Choice("🤝 Always allow @bob", Button("always", 7)),
        Choice("🚫 Deny", Button("deny", 7)),
    ),
)


def person(who: p.Json) -> ChatUser:
    return ChatUser("discord", who["id"], who["global_name"], who["username"])


def buttons(message: p.Json) -> list[p.Json]:
    return [component for row in message["components"] for component in row["components"]]


async def test_a_dm_shows_the_notes_choices_as_signed_buttons(
    adapter: DiscordPort, emulator: Emulator
) -> None:
    sent = await adapter.dm(person(p.ADA), REQUEST)

    assert emulator.dm_user(sent.chat.chat_id) == p.ADA["id"]
    message = emulator.messages[sent.message_id]
    assert message["content"] == REQUEST.text
    shown = buttons(message)
    assert [b["label"] for b in shown] == [choice.label for choice in REQUEST.choices]
    for component, choice in zip(shown, REQUEST.choices, strict=True):
        payload = component["custom_id"].removeprefix("cc:")
        # Consent buttons hold in any chat: the core checks who presses.
        assert verify(payload, chat_id="another chat", secret=adapter.secret) == choice.button


async def test_a_person_who_refuses_dms_is_cannot_dm(
    adapter: DiscordPort, emulator: Emulator
) -> None:
    emulator.refuses_dms.add(p.BOB["id"])
    with pytest.raises(CannotDM, match="I can't send @bob a direct message"):
        await adapter.dm(person(p.BOB), REQUEST)
    assert emulator.of("channel_message") == []


async def test_cameo_with_a_video_is_a_selfie_upload_fetched_on_demand(
    adapter: DiscordPort, emulator: Emulator, cameo_core: CameoCore
) -> None:
    selfie = b"\x00\x00\x00\x18ftypmp42 a selfie video"
    await slash(emulator, "cameo", who=p.BOB, video=emulator.upload(selfie))
    [answer] = await emulator.wait_for("edit_original")

    assert emulator.of("ack")[0].detail == DEFERRED_EPHEMERAL
    [upload] = cameo_core.commands
    assert isinstance(upload, SelfieUpload)
    assert upload.author == person(p.BOB)
    assert upload.size_bytes == len(selfie)
    assert upload.message is not None and upload.message.chat == upload.chat
    assert cameo_core.fetched == [selfie]
    assert len(emulator.of("cdn_get")) == 1
    assert answer.detail == f"🎞️ Got your selfie ({len(selfie)} bytes)."


@pytest.mark.parametrize(
    ("options", "args"), [({"action": "audience everyone"}, "audience everyone"), ({}, "")]
)
async def test_cameo_with_an_action_is_a_cameo_command_answered_by_dm(
    adapter: DiscordPort,
    emulator: Emulator,
    cameo_core: CameoCore,
    options: dict[str, str],
    args: str,
) -> None:
    await slash(emulator, "cameo", **options)
    [answer] = await emulator.wait_for("edit_original")

    [command] = cameo_core.commands
    assert isinstance(command, CameoCommand)
    assert (command.args, command.author) == (args, person(p.ADA))
    assert emulator.of("ack")[0].detail == DEFERRED_EPHEMERAL
    assert answer.detail == SENT_A_DM.text
    [dm] = emulator.of("channel_message")
    assert emulator.dm_user(emulator.messages[str(dm.message_id)]["channel_id"]) == p.ADA["id"]


async def test_cameo_in_the_dm_itself_does_not_leave_thinking_spinning(
    adapter: DiscordPort, emulator: Emulator, cameo_core: CameoCore
) -> None:
    await slash(emulator, "cameo", in_dm=True, action="clips")
    [answer] = await emulator.wait_for("edit_original")
    [dm] = emulator.of("channel_message")
    assert dm.detail["content"] == "Cameo: clips"
    assert answer.detail == ANSWERED_BY_DM


async def test_the_cameo_option_autocompletes_from_the_core_and_becomes_a_mention(
    adapter: DiscordPort, emulator: Emulator, cameo_core: CameoCore
) -> None:
    cameo_core.suggestions = [
        Suggestion("@bob (Bob)", p.BOB["id"]),
        Suggestion("@carol (Carol)", p.CAROL["id"]),
    ]
    await autocomplete(emulator, "sora", "cameo", prompt="a cat DJ", cameo="bo")
    [choices] = await emulator.wait_for("autocomplete")
    assert choices.detail == [{"name": "@bob (Bob)", "value": p.BOB["id"]}]
    assert cameo_core.typed == [("discord", "bo")]

    await slash(emulator, "sora", prompt="a cat DJ", cameo=p.BOB["id"])
    await emulator.wait_for("edit_original")
    [generate] = cameo_core.commands
    assert isinstance(generate, Generate)
    assert generate.mentions == (ChatUser("discord", p.BOB["id"], p.BOB["id"]),)


async def test_a_typed_cameo_not_picked_from_the_list_is_refused_privately(
    adapter: DiscordPort, emulator: Emulator, cameo_core: CameoCore
) -> None:
    await slash(emulator, "sora", prompt="a cat DJ", cameo="ada")
    [ack] = await emulator.wait_for("ack")
    assert ack.detail == {"type": 4, "ephemeral": True}
    assert emulator.messages[ack.message_id]["content"] == PICK_A_CAMEO
    assert cameo_core.commands == []


async def test_without_cameos_in_the_core_autocomplete_offers_nothing(
    adapter: DiscordPort, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(CameoCore, "suggest_cameos")
    await autocomplete(emulator, "sora", "cameo", prompt="a cat DJ", cameo="bo")
    [choices] = await emulator.wait_for("autocomplete")
    assert choices.detail == []


async def test_a_consent_press_is_answer_consent_by_the_presser_shown_privately(
    adapter: DiscordPort, emulator: Emulator, cameo_core: CameoCore
) -> None:
    sent = await adapter.dm(person(p.ADA), REQUEST)
    await press(emulator, sent.message_id, "Deny", who=p.CAROL)
    [answer] = await emulator.wait_for("edit_original")

    assert emulator.of("ack")[0].detail == DEFERRED_EPHEMERAL
    assert answer.detail == APPROVED.text
    dm = ChatRef("discord", sent.chat.chat_id)
    assert cameo_core.commands == [
        AnswerConsent(
            approval_id=7,
            answer="deny",
            author=person(p.CAROL),
            chat=dm,
            message=MessageRef(dm, sent.message_id),
        )
    ]


async def test_notes_render_their_choices_and_an_edit_without_choices_clears_them(
    adapter: DiscordPort, emulator: Emulator
) -> None:
    channel = ChatRef("discord", str(p.CHANNEL_ID), "memes")
    posted = await adapter.post(channel, REQUEST, reply_to=None)
    message = emulator.messages[posted.message_id]
    assert message["content"] == REQUEST.text
    assert len(buttons(message)) == 3

    await adapter.edit(posted, Note("Denied."))
    assert message["content"] == "Denied."
    assert message["components"] == []


async def test_links_name_the_server_of_a_known_channel(
    adapter: DiscordPort, emulator: Emulator
) -> None:
    in_server = MessageRef(ChatRef("discord", str(p.CHANNEL_ID)), "77")
    expected = f"https://discord.com/channels/{p.GUILD_ID}/{p.CHANNEL_ID}/77"
    assert adapter.link(in_server) == expected
    sent = await adapter.dm(person(p.ADA), REQUEST)
    assert adapter.link(sent) == (
        f"https://discord.com/channels/@me/{sent.chat.chat_id}/{sent.message_id}"
    )
    assert adapter.link(MessageRef(ChatRef("discord", "1"), "2")) is None  # not one we know


async def test_people_picked_while_typing_the_prompt_become_mentions(
    adapter: DiscordPort, emulator: Emulator, cameo_core: CameoCore
) -> None:
    typed = f"<@{p.BOB['id']}> and <@!{p.CAROL['id']}> dance; <@900000000000000999> watches"
    await slash(emulator, "sora", prompt=typed)
    await emulator.wait_for("edit_original")
    [generate] = cameo_core.commands
    assert isinstance(generate, Generate)
    assert generate.prompt == "@bob and @carol dance; <@900000000000000999> watches"
    assert [(m.user_id, m.username) for m in generate.mentions] == [
        (p.BOB["id"], "bob"),
        (p.CAROL["id"], "carol"),
    ]

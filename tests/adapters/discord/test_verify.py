"""/verify on Discord, the adapter's side: `/verify video:` and the "Verify" message menu become
a VerifyUpload fetched on demand, answered privately; a message without a video is refused."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from adapters.discord import DiscordPort
from adapters.discord.actions import NO_VIDEO
from bot.commands import Command, VerifyUpload
from bot.ports import ChatPort
from bot.replies import Note, Reply
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.interactions import COMMAND, slash

CLIP = b"\x00\x00\x00\x18ftypmp42 a clip someone forwarded"


@dataclass
class VerifyCore:
    """Answers a VerifyUpload as the real core does: "checking", then the answer in its place."""

    port: ChatPort | None = None
    commands: list[Command] = field(default_factory=list)
    fetched: list[bytes] = field(default_factory=list)

    def attach(self, port: ChatPort) -> None:
        self.port = port

    async def handle(self, command: Command) -> Reply:
        assert self.port is not None and isinstance(command, VerifyUpload)
        self.commands.append(command)
        status = await self.port.post(command.chat, Note("🔍 Checking…"), reply_to=command.message)
        self.fetched.append(await command.fetch())
        answer = Note(f"match: fingerprint, clipcrew clip #7 ({len(self.fetched[-1])} bytes)")
        await self.port.edit(status, answer)
        return answer


@pytest.fixture
def cameo_core() -> VerifyCore:  # the `adapter` fixture's core
    return VerifyCore()


async def menu(emu: Emulator, message: p.Json, who: p.Json = p.ADA) -> None:
    data = {
        "id": emu.commands["Verify"]["id"],
        "name": "Verify",
        "type": 3,
        "target_id": message["id"],
        "resolved": {"messages": {message["id"]: message}},
    }
    await emu.interact(p.interaction(COMMAND, data, who, size_limit=emu.size_limit))


@pytest.mark.parametrize("in_dm", [True, False])
async def test_verify_with_a_video_is_answered_privately(
    adapter: DiscordPort, emulator: Emulator, cameo_core: VerifyCore, in_dm: bool
) -> None:
    await slash(emulator, "verify", who=p.BOB, in_dm=in_dm, video=emulator.upload(CLIP))
    edits = await emulator.wait_for("edit_original", 2)
    assert emulator.of("ack")[0].detail == {"type": 5, "ephemeral": True}
    [upload] = cameo_core.commands
    assert upload.size_bytes == len(CLIP) and upload.author.user_id == p.BOB["id"]
    assert cameo_core.fetched == [CLIP]
    assert edits[-1].detail == f"match: fingerprint, clipcrew clip #7 ({len(CLIP)} bytes)"


async def test_the_verify_menu_checks_the_message_s_video(
    adapter: DiscordPort, emulator: Emulator, cameo_core: VerifyCore
) -> None:
    forwarded = emulator.add_message(
        p.message(p.CHANNEL_ID, "look at this", attachments=[emulator.upload(CLIP, "x.mp4")])
    )
    await menu(emulator, forwarded)
    await emulator.wait_for("edit_original", 2)
    assert cameo_core.fetched == [CLIP]


async def test_the_verify_menu_on_a_message_without_video_is_refused(
    adapter: DiscordPort, emulator: Emulator, cameo_core: VerifyCore
) -> None:
    chatter = emulator.add_message(p.message(p.CHANNEL_ID, "just chatting"))
    await menu(emulator, chatter)
    [ack] = await emulator.wait_for("ack")
    assert ack.detail == {"type": 4, "ephemeral": True}
    assert emulator.messages[ack.message_id]["content"] == NO_VIDEO
    assert cameo_core.commands == []

"""/verify through the Telegram adapter (a recording core; PTB and the Bot API emulator are
real): a video captioned /verify in the private chat is a VerifyUpload, fetched on demand."""

from __future__ import annotations

import asyncio

import pytest

from bot.commands import Command, SelfieUpload, VerifyUpload
from bot.replies import Note
from bot.types import ChatRef, ChatUser, MessageRef
from tests.adapters.telegram.emulator import ADA, BotApi
from tests.adapters.telegram.fakes import RecordingCore

ADA_USER = ChatUser("telegram", "101", "Ada", "ada")
ADA_DM = ChatRef("telegram", "101", "Ada")
VIDEO = b"\x00\x00\x00\x18ftypmp42 pretend this is a clip someone forwarded"


@pytest.mark.parametrize("caption", ["/verify", "/verify@clipcrew_bot", "/VERIFY is this real?"])
async def test_a_video_captioned_verify_asks_where_it_came_from(
    api: BotApi, core: RecordingCore, caption: str
) -> None:
    fetched: asyncio.Queue[bytes] = asyncio.Queue()

    async def respond(command: Command) -> Note:
        assert isinstance(command, VerifyUpload)
        await fetched.put(await command.fetch())
        return Note("match: fingerprint, clipcrew clip #1")

    core.respond = respond
    message = await api.send_video(ADA, VIDEO, caption=caption)
    command = await core.next()
    assert isinstance(command, VerifyUpload)
    assert (command.author, command.chat, command.size_bytes) == (ADA_USER, ADA_DM, len(VIDEO))
    assert command.message == MessageRef(ADA_DM, str(message["message_id"]))
    async with asyncio.timeout(5):
        assert await fetched.get() == VIDEO
    assert core.commands.empty()  # the caption is not also taken as a text command


async def test_any_other_caption_is_still_a_selfie(api: BotApi, core: RecordingCore) -> None:
    await api.send_video(ADA, VIDEO, caption="my selfie, /verify later")
    assert isinstance(await core.next(), SelfieUpload)

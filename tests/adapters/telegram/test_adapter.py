"""The adapter alone (a recording core): what commands it builds, the webhook's secret, the
port's edit spacing, and logs without the token. PTB itself is real throughout."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import aiohttp
import pytest

from adapters.telegram import start_telegram
from adapters.telegram.port import TelegramPort
from bot.commands import Generate, Help, Remix
from bot.replies import Failed, Progress, Queued
from bot.types import ChatRef, ChatUser
from clipcrew.config import telegram_config
from storage.blobs import BlobStore
from tests.adapters.telegram.conftest import telegram_settings
from tests.adapters.telegram.emulator import ADA, BOB, BOT, CAROL, GROUP, TOKEN, BotApi
from tests.adapters.telegram.fakes import RecordingCore


async def test_mentions_become_users(api: BotApi, core: RecordingCore) -> None:
    await api.say(GROUP, BOB, "/help")  # now the bot knows who @bob is
    assert isinstance(await core.next(), Help)
    text = "/sora @bob and @stranger dance with Carol"
    carol = {"type": "text_mention", "offset": text.index("Carol"), "length": 5, "user": CAROL}
    await api.say(GROUP, ADA, text, entities=[carol])

    command = await core.next()
    assert isinstance(command, Generate)
    assert command.prompt == "@bob and @stranger dance with Carol"
    assert command.author == ChatUser("telegram", "101", "Ada", "ada")
    assert command.mentions == (
        ChatUser("telegram", "102", "Bob", "bob"),
        ChatUser("telegram", "103", "Carol", None),
    )


async def test_only_the_bots_own_remix_prompt_counts(api: BotApi, core: RecordingCore) -> None:
    text = "✏️ Remix of clip #7: Ada, reply to this message with what should change."
    forged = api.compose(GROUP, BOB, text)
    await api.say(GROUP, ADA, "make it pink", reply_to=forged)  # Bob's text: just chat
    ours = api.compose(GROUP, BOT, text)
    await api.say(GROUP, ADA, "/sora make it pink", reply_to=ours)  # a command works too

    command = await core.next()
    assert isinstance(command, Remix)
    assert (command.parent_clip_id, command.prompt) == (7, "make it pink")
    assert core.commands.empty()


async def test_progress_edits_are_spaced_per_chat(api: BotApi, core: RecordingCore) -> None:
    port = core.ports["telegram"]
    assert isinstance(port, TelegramPort) and port.capabilities.min_edit_interval_s == 3
    chat = ChatRef("telegram", str(GROUP["id"]))
    first = await port.post(chat, Queued("j1", 0, "a cat"), reply_to=None)
    second = await port.post(chat, Queued("j2", 0, "a dog"), reply_to=None)
    await port.edit(first, Progress("j1", 10, "drawing"))
    await port.edit(second, Progress("j2", 10, "drawing"))  # same chat, too soon: skipped
    await port.edit(first, Failed("the engine fell over", "j1"))  # an outcome is never skipped
    edits = api.of("editMessageText")
    assert [e.params["text"] for e in edits] == [
        "▓░░░░░░░░░ 10% · drawing",
        "⚠️ the engine fell over",
    ]


async def test_the_token_never_reaches_the_logs(
    api: BotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recording = RecordingCore()
    stop = await start_telegram(
        recording, BlobStore(tmp_path), telegram_config(telegram_settings(tmp_path, api))
    )
    try:
        await api.say(GROUP, ADA, "/sora a cat")
        await recording.next()
    finally:
        await api.drain(True)
        await stop()
    assert any(r.name.startswith("telegram") for r in caplog.records)  # PTB did log, verbosely
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("header", "status"),
    [("s3cret-token", 200), ("wrong", 403), (None, 403)],
    ids=["right", "wrong", "missing"],
)
async def test_webhook_needs_the_secret(
    api: BotApi, tmp_path: Path, header: str | None, status: int
) -> None:
    listen = f"127.0.0.1:{free_port()}"
    settings = telegram_settings(
        tmp_path,
        api,
        TELEGRAM_WEBHOOK_URL="https://bot.example.test/telegram/hook",
        TELEGRAM_WEBHOOK_SECRET="s3cret-token",
        TELEGRAM_WEBHOOK_LISTEN=listen,
    )
    recording = RecordingCore()
    stop = await start_telegram(recording, BlobStore(tmp_path), telegram_config(settings))
    try:
        [webhook] = api.of("setWebhook")
        assert webhook.params["url"] == "https://bot.example.test/telegram/hook"
        assert webhook.params["secret_token"] == "s3cret-token"
        assert api.of("getUpdates") == []
        update = {"update_id": 1, "message": api.compose(GROUP, ADA, "/sora a cat")}
        headers = {"X-Telegram-Bot-Api-Secret-Token": header} if header else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://{listen}/telegram/hook", json=update, headers=headers) as response,
        ):
            assert response.status == status
        if status == 200:
            command = await recording.next()
            assert isinstance(command, Generate) and command.prompt == "a cat"
        else:
            assert recording.commands.empty()
    finally:
        await stop()

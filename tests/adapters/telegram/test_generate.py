"""/sora through the real PTB Application, core, queue and sketch engine, against the emulator."""

from __future__ import annotations

import io

import av
import pytest

from clipcrew.app import Services
from tests.adapters.telegram.emulator import ADA, GROUP, BotApi, Json, private
from tests.adapters.telegram.steps import replied_to, sora


def assert_playable(video: bytes) -> None:
    with av.open(io.BytesIO(video), mode="r") as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 128, 128)
        assert container.streams.audio[0].codec_context.name == "aac"
        assert any(True for _ in container.decode(video=0))


async def test_commands_are_registered_at_start(api: BotApi, bot: Services) -> None:
    [registered] = api.of("setMyCommands")
    names = [c["command"] for c in registered.params["commands"]]
    assert names == ["sora", "help", "start", "cameo", "feed", "remix", "queue", "admin"]
    assert all(c["description"] for c in registered.params["commands"])


@pytest.mark.parametrize("chat", [GROUP, private(ADA)], ids=["group", "private"])
async def test_sora_posts_status_then_a_playable_clip(
    api: BotApi, bot: Services, chat: Json
) -> None:
    command, video = await sora(api, chat, '/sora a cat says "hello"')

    status = api.of("sendMessage")[0]
    assert replied_to(status) == command["message_id"]
    assert status.params["text"].startswith("🎬 Queued: a cat says")
    assert replied_to(video) == command["message_id"]
    assert video.params["supports_streaming"] == "true"
    assert (video.params["width"], video.params["height"], video.params["duration"]) == (
        "128",
        "128",
        "1",
    )
    assert '“a cat says "hello"” by @ada' in video.params["caption"]
    buttons = video.params["reply_markup"]["inline_keyboard"][0]
    # The bot is no admin here, so reactions cannot reach it: a ❤️ button counts instead.
    assert [b["text"] for b in buttons] == ["❤️", "🎨 Remix", "🎲 Reroll", "🗑️ Delete"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert_playable(video.files["video"])

    # Progress edits the status message (at most once per 3 s: a 1 s clip gets one).
    edits = api.of("editMessageText")
    assert edits and all(int(e.params["message_id"]) == status.result["message_id"] for e in edits)
    assert all("%" in e.params["text"] for e in edits)
    deleted = await api.wait_for("deleteMessage")
    assert int(deleted[0].params["message_id"]) == status.result["message_id"]


async def test_a_command_for_another_bot_is_ignored(api: BotApi, bot: Services) -> None:
    await api.say(GROUP, ADA, "/sora@otherbot a cat")
    help_command = await api.say(GROUP, ADA, "/help@clipcrew_bot")
    [answer] = await api.wait_for("sendMessage")
    assert replied_to(answer) == help_command["message_id"]
    assert "Usage: /sora" in answer.params["text"]


async def test_replying_to_a_clip_with_sora_remixes_it(api: BotApi, bot: Services) -> None:
    _, first = await sora(api, GROUP, "/sora a frog on a unicycle")
    clip = first.result
    # The status message goes once the clip's message is on record; a person replying sooner
    # than that is not a case worth a race in the test.
    await api.wait_for("deleteMessage")
    remix_command, remix = await sora(api, GROUP, "/sora make it rain", reply_to=clip)
    assert replied_to(remix) == remix_command["message_id"]
    assert "a frog on a unicycle · remix: make it rain" in remix.params["caption"]
    assert "(remix of #1)" in remix.params["caption"]


async def test_a_flood_wait_on_send_video_is_waited_out(api: BotApi, bot: Services) -> None:
    api.fail_next("sendVideo", 429, retry_after=1)
    await sora(api, GROUP, "/sora a cat")
    assert [c.status for c in api.of("sendVideo", ok_only=False)] == [429, 200]
    assert len(api.of("sendVideo")) == 1


async def test_an_upload_refused_as_too_large_is_reencoded_smaller(
    api: BotApi, bot: Services
) -> None:
    api.fail_next("sendVideo", 413)
    await sora(api, GROUP, "/sora a cat")
    refused, sent = api.of("sendVideo", ok_only=False)
    assert (refused.status, sent.status) == (413, 200)
    assert len(sent.files["video"]) < len(refused.files["video"])
    assert_playable(sent.files["video"])


async def test_start_with_a_deep_link_payload_shows_how_to_use_the_bot(
    api: BotApi, bot: Services
) -> None:
    command = await api.say(private(ADA), ADA, "/start from-group-123")
    [answer] = await api.wait_for("sendMessage")
    assert replied_to(answer) == command["message_id"]
    assert "Usage: /sora" in answer.params["text"]

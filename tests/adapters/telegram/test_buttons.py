"""Remix / Reroll / Delete under a clip, pressed through the real PTB Application."""

from __future__ import annotations

import pytest

from clipcrew.app import Services
from tests.adapters.telegram.emulator import ADA, BOB, GROUP, BotApi, Call, Json
from tests.adapters.telegram.steps import button, sora


async def clip_in_group(api: BotApi) -> tuple[Json, Call]:
    _, video = await sora(api, GROUP, "/sora a frog on a unicycle")
    return video.result, video


async def test_remix_button_asks_for_the_change_and_the_reply_remixes(
    api: BotApi, bot: Services
) -> None:
    clip, video = await clip_in_group(api)
    asks = len(api.of("sendMessage"))
    await api.press(BOB, clip, button(video, "Remix"))
    prompt = (await api.wait_for("sendMessage", asks + 1))[asks]
    assert prompt.params["reply_markup"]["force_reply"] is True
    assert int(prompt.params["reply_parameters"]["message_id"]) == clip["message_id"]
    assert prompt.params["reply_markup"]["selective"] is True  # the box opens for Bob only
    assert '<a href="tg://user?id=102">Bob</a>' in prompt.params["text"]
    await api.wait_for("answerCallbackQuery")

    change = await api.say(GROUP, BOB, "make it rain", reply_to=prompt.result)
    remix = (await api.wait_for("sendVideo", 2))[1]
    assert int(remix.params["reply_parameters"]["message_id"]) == change["message_id"]
    assert "remix: make it rain” by @bob (remix of #1)" in remix.params["caption"]


async def test_a_reply_to_another_bot_message_is_just_chat(api: BotApi, bot: Services) -> None:
    clip, _ = await clip_in_group(api)
    await api.say(GROUP, BOB, "lol", reply_to=clip)
    await api.say(GROUP, BOB, "/help")
    await api.wait_for("sendMessage", 2)  # status of the clip, then the help
    assert len(api.of("sendVideo")) == 1


async def test_reroll_makes_the_same_prompt_again(api: BotApi, bot: Services) -> None:
    clip, video = await clip_in_group(api)
    await api.press(BOB, clip, button(video, "Reroll"))
    reroll = (await api.wait_for("sendVideo", 2))[1]
    assert "“a frog on a unicycle” by @bob (remix of #1)" in reroll.params["caption"]
    assert int(reroll.params["reply_parameters"]["message_id"]) == clip["message_id"]


async def test_only_the_author_may_delete(api: BotApi, bot: Services) -> None:
    clip, video = await clip_in_group(api)
    await api.wait_for("deleteMessage")  # the status message is gone
    await api.press(BOB, clip, button(video, "Delete"))
    [refusal] = await api.wait_for("answerCallbackQuery")
    assert refusal.params["show_alert"] == "true"
    assert "Only the person who made this clip" in refusal.params["text"]

    await api.press(ADA, clip, button(video, "Delete"))
    done = (await api.wait_for("answerCallbackQuery", 2))[1]
    assert done.params["text"] == "🗑️ Clip #1 was deleted."
    deleted = [int(c.params["message_id"]) for c in api.of("deleteMessage")]
    assert clip["message_id"] in deleted


@pytest.mark.parametrize("tamper", ["swap_clip", "other_chat", "garbage"])
async def test_tampered_button_data_is_refused(api: BotApi, bot: Services, tamper: str) -> None:
    clip, video = await clip_in_group(api)
    data = button(video, "Delete")
    if tamper == "swap_clip":
        data = data.replace(":1:", ":2:")
    elif tamper == "garbage":
        data = "dl:1:forged"
    message = clip if tamper != "other_chat" else {**clip, "chat": {"id": -42, "type": "group"}}
    await api.press(ADA, message, data)
    [alert] = await api.wait_for("answerCallbackQuery")
    assert alert.params["show_alert"] == "true"
    assert alert.params["text"].startswith("That button isn't valid here any more.")
    assert clip["message_id"] not in [int(c.params["message_id"]) for c in api.of("deleteMessage")]

"""Cameos through the real PTB Application, core, database, queue, face checks and sketch
engine, against the emulator: Ada enrolls by private video, Bob puts her in a clip, Ada approves
in a direct message (Carol can't for her), and Bob's clip is made; /cameo in a group is answered
privately, or with how to open a private chat when the bot can't write to the person yet."""

from __future__ import annotations

from clipcrew.app import Services
from tests.adapters.telegram.emulator import ADA, BOB, CAROL, GROUP, BotApi, private
from tests.adapters.telegram.steps import wait_until
from tests.engine.faces import clips


async def enroll(api: BotApi) -> None:
    await api.say(private(ADA), ADA, "/cameo")
    code = await wait_until(api, "sendMessage", "say your code")
    assert int(code.params["chat_id"]) == ADA["id"]
    await api.send_video(ADA, clips.head_turn())
    await wait_until(api, "editMessageText", "Your cameo is ready")


async def test_a_cameo_is_enrolled_asked_for_and_approved_by_its_owner(
    api: BotApi, bot: Services
) -> None:
    # 1. Ada enrolls: /cameo, then her selfie video, both in her private chat with the bot.
    await enroll(api)

    # 2. Bob puts @ada in a clip in the group: she is asked privately, Bob's status waits.
    command = await api.say(GROUP, BOB, "/sora @ada dances in the rain")
    asking = await wait_until(api, "sendMessage", "wants to put your cameo in a clip")
    assert int(asking.params["chat_id"]) == ADA["id"]  # her private chat, not the group
    rows = asking.params["reply_markup"]["inline_keyboard"]
    data = {button["text"]: button["callback_data"] for [button] in rows}
    assert list(data) == ["✅ Approve once", "🤝 Always allow @bob", "🚫 Deny"]
    status = await wait_until(api, "sendMessage", "Waiting for @ada")
    assert int(status.params["reply_parameters"]["message_id"]) == command["message_id"]

    # 3. Carol can't answer for Ada: an alert, and nothing moves.
    await api.press(CAROL, asking.result, data["✅ Approve once"])
    [refusal] = await api.wait_for("answerCallbackQuery")
    assert refusal.params["show_alert"] == "true"
    assert "Only @ada" in refusal.params["text"]
    assert "reply_markup" in api.message(ADA["id"], asking.result["message_id"])

    # 4. Ada approves once: her alert, her request loses its buttons, Bob's clip goes ahead.
    await api.press(ADA, asking.result, data["✅ Approve once"])
    approved = (await api.wait_for("answerCallbackQuery", 2))[1]
    assert "approved" in approved.params["text"]
    queued = await wait_until(api, "editMessageText", "Queued")
    assert int(queued.params["message_id"]) == status.result["message_id"]
    answered = api.message(ADA["id"], asking.result["message_id"])
    assert "approved" in answered["text"] and "reply_markup" not in answered
    [clip] = await api.wait_for("sendVideo")
    assert int(clip.params["chat_id"]) == GROUP["id"]
    assert clip.params["caption"].endswith("by @bob featuring @ada")


async def test_cameo_in_a_group_is_answered_privately(api: BotApi, bot: Services) -> None:
    api.open_private(BOB)
    command = await api.say(GROUP, BOB, "/cameo")
    code = await wait_until(api, "sendMessage", "say your code")
    assert int(code.params["chat_id"]) == BOB["id"]
    pointer = await wait_until(api, "sendMessage", "I sent you a direct message")
    assert int(pointer.params["chat_id"]) == GROUP["id"]
    assert int(pointer.params["reply_parameters"]["message_id"]) == command["message_id"]


async def test_cameo_before_a_private_chat_says_to_open_one(api: BotApi, bot: Services) -> None:
    await api.say(GROUP, CAROL, "/cameo")  # Carol never wrote to the bot privately
    answer = await wait_until(api, "sendMessage", "can't send Carol a direct message")
    assert int(answer.params["chat_id"]) == GROUP["id"]
    [refused] = api.of("sendMessage", ok_only=False)[:1]
    assert (int(refused.params["chat_id"]), refused.status) == (CAROL["id"], 403)

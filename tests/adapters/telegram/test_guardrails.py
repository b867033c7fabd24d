"""Guardrails through the real PTB Application, core and light pool, against the emulator:
refused prompts, admins as getChatMember says, bans and the daily budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from clipcrew.app import Services, start_services
from tests.adapters.telegram.conftest import stop_bot, telegram_settings
from tests.adapters.telegram.emulator import ADA, BOB, GROUP, BotApi, Call, Json

GORE = "/sora a man is decapitated with a chainsaw, blood and gore spraying everywhere"


async def said(api: BotApi, text: str, *, chat: Json | None = None) -> Call:
    """The first message the bot sent containing `text` (in `chat` if given), waiting for it."""
    async with asyncio.timeout(20):
        while True:
            for call in api.of("sendMessage"):
                in_chat = chat is None or int(call.params["chat_id"]) == chat["id"]
                if in_chat and text in call.params["text"]:
                    return call
            await asyncio.sleep(0.02)


def texts(api: BotApi) -> list[str]:
    return [call.params["text"] for call in api.of("sendMessage")]


def make_admin(api: BotApi, user: Json, status: str = "creator") -> None:
    api.roles[(GROUP["id"], user["id"])] = status
    api.open_private(user)  # admin answers come by direct message


async def test_admin_is_offered_in_the_command_menu(api: BotApi, bot: Services) -> None:
    [registered] = api.of("setMyCommands")
    assert "admin" in [c["command"] for c in registered.params["commands"]]


async def test_a_refused_prompt_names_the_category_and_nothing_is_queued(
    api: BotApi, bot: Services
) -> None:
    await api.say(GROUP, ADA, GORE)
    refused = await said(api, "I can't make clips with")
    assert refused.params["text"].endswith("in this chat.")
    await api.say(GROUP, ADA, "/help")  # anything queued would have answered before this
    await said(api, "Usage: /sora")
    assert not any(text.startswith("🎬") for text in texts(api))
    assert api.of("sendVideo") == []


async def test_an_admin_changes_the_policy_and_bans_someone(api: BotApi, bot: Services) -> None:
    make_admin(api, ADA, "administrator")
    await api.say(GROUP, BOB, "/help")  # the bot learns who @bob is
    await api.say(GROUP, ADA, "/admin policy standard")
    assert await said(api, "now standard", chat={"id": ADA["id"]})
    await said(api, "I sent you a direct message", chat=GROUP)
    assert [c.params["user_id"] for c in api.of("getChatMember")] == [str(ADA["id"])]

    await api.say(GROUP, ADA, "/admin ban @bob")
    await said(api, "@bob can no longer make clips here", chat={"id": ADA["id"]})
    await api.say(GROUP, BOB, "/sora a cat on a skateboard")
    await said(api, "stopped you from making clips here", chat=GROUP)
    assert api.of("sendVideo") == []


async def test_a_non_admins_admin_is_refused(api: BotApi, bot: Services) -> None:
    make_admin(api, ADA)
    await api.say(GROUP, BOB, "/admin policy adult confirm")
    refusal = await said(api, "Only this chat's admins can use /admin.", chat=GROUP)
    assert refusal.params["reply_parameters"]
    await api.say(GROUP, ADA, "/admin policy")
    assert await said(api, "Policy: strict", chat={"id": ADA["id"]})


async def test_adult_takes_a_confirmation_after_a_warning(api: BotApi, bot: Services) -> None:
    make_admin(api, ADA)
    await api.say(GROUP, ADA, "/admin policy adult")
    await said(api, "⚠️ The adult policy", chat={"id": ADA["id"]})
    await api.say(GROUP, ADA, "/admin policy adult confirm")
    await said(api, "now adult", chat={"id": ADA["id"]})


async def test_the_daily_limit(api: BotApi, bot: Services) -> None:
    make_admin(api, ADA)
    await api.say(GROUP, ADA, "/admin limit 1 100")
    await said(api, "1 per person, 100 per chat", chat={"id": ADA["id"]})
    await api.say(GROUP, BOB, "/sora a cat on a skateboard")
    await said(api, "🎬 Queued", chat=GROUP)
    await api.say(GROUP, BOB, "/sora a dog on a skateboard")
    over = await said(api, "You have made today's 1 clip", chat=GROUP)
    assert "resets at midnight UTC (in " in over.params["text"]


async def test_the_queue_in_a_dm_with_a_cancel_per_job(
    api: BotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    # A long clip renders for seconds: the job is still in hand when the admin presses Cancel.
    settings = telegram_settings(tmp_path, api, CLIPCREW_CLIP_SECONDS=20)
    services = await start_services(settings, local_chat=False)
    try:
        make_admin(api, ADA)
        await api.say(GROUP, BOB, "/sora a cat on a skateboard")
        await said(api, "🎬 Queued", chat=GROUP)
        await api.say(GROUP, ADA, "/admin queue")
        listing = await said(api, "@bob: “a cat on a skateboard”", chat={"id": ADA["id"]})
        [[cancel]] = listing.params["reply_markup"]["inline_keyboard"]
        assert cancel["text"] == "✖️ Cancel 1"
        message = api.message(ADA["id"], listing.result["message_id"])
        await api.press(ADA, message, cancel["callback_data"])
        [alert] = await api.wait_for("answerCallbackQuery")
        assert alert.params["text"] == "✖️ Cancelled."
        edits = [c.params["text"] for c in api.of("editMessageText")]
        assert "⚠️ An admin of this chat cancelled this clip." in edits
    finally:
        await stop_bot(api, services)
    assert api.of("sendVideo") == []

"""The feed through the real PTB Application against the emulator: reactions (only for an admin
bot that asked for them), the ❤️ button otherwise, /feed and its pages, /feed #N, /remix N."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from bot.replies import ClipReady
from bot.types import ChatRef, ChatUser
from clipcrew.app import Services
from storage import feed as feed_rows
from tests.adapters.telegram.emulator import ADA, BOB, CAROL, GROUP, BotApi, Call, Json
from tests.adapters.telegram.steps import button, replied_to, sora
from tests.feed_rows import posted_clip

CHAT = ChatRef("telegram", str(GROUP["id"]), GROUP["title"])


def tg_user(user: Json) -> ChatUser:
    return ChatUser("telegram", str(user["id"]), user["first_name"], user.get("username"))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Reactions have no answer to wait for: look until the core has counted them."""
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def total(bot: Services, clip_id: int) -> int:
    async with bot.db.session() as session:
        return await feed_rows.reaction_total(session, clip_id)


async def ask_feed(api: BotApi, text: str) -> Call:
    before = len(api.of("sendMessage"))
    command = await api.say(GROUP, ADA, text)
    answer = (await api.wait_for("sendMessage", before + 1))[before]
    assert replied_to(answer) == command["message_id"]
    return answer


def listed(answer: Call | Json) -> list[int]:
    text = answer.params["text"] if isinstance(answer, Call) else answer["text"]
    return [int(re.findall(r"#(\d+)", line)[0]) for line in text.splitlines() if "“" in line]


def at(message_id: int) -> Json:
    return {"chat": GROUP, "message_id": message_id}


async def test_commands_for_the_feed_are_registered(api: BotApi, bot: Services) -> None:
    [registered] = api.of("setMyCommands")
    described = {c["command"]: c["description"] for c in registered.params["commands"]}
    assert "/feed #12" in described["feed"] and "coming soon" not in described["feed"]
    assert "/remix 12" in described["remix"]
    [poll] = api.of("getUpdates")[:1]
    assert {"message_reaction", "message_reaction_count"} <= set(poll.params["allowed_updates"])


async def test_reactions_added_and_removed_change_the_ranking(api: BotApi, bot: Services) -> None:
    api.make_admin(GROUP)
    older = await posted_clip(bot.db, CHAT, tg_user(ADA), "older", hours_old=3, message_id="501")
    newer = await posted_clip(bot.db, CHAT, tg_user(BOB), "newer", hours_old=1, message_id="502")
    first = await ask_feed(api, "/feed")
    assert listed(first) == [newer, older]
    assert "make me an admin" not in first.params["text"].lower()
    assert "https://t.me/c/123/501" in first.params["text"]  # each line links its clip

    await api.react(BOB, at(501), ["👍"])
    await api.react(CAROL, at(501), ["🔥", "👍"])
    await eventually(lambda: _is(bot, older, 3), "three reactions on the older clip")
    assert listed(await ask_feed(api, "/feed")) == [older, newer]

    await api.react(CAROL, at(501), [], old=["🔥", "👍"])
    await api.react(BOB, at(501), ["😂"], old=["👍"])
    await eventually(lambda: _is(bot, older, 1), "one reaction left")
    assert listed(await ask_feed(api, "/feed")) == [newer, older]

    await api.react_anonymously(at(502), {"👍": 4})
    await eventually(lambda: _is(bot, newer, 4), "the anonymous count")
    assert not api.withheld


async def _is(bot: Services, clip_id: int, n: int) -> bool:
    return await total(bot, clip_id) == n


async def post_clip(api: BotApi, bot: Services, prompt: str) -> tuple[int, Call]:
    """A clip of the group's, posted through the real port (as the core posts a finished one)."""
    clip_id = await posted_clip(bot.db, CHAT, tg_user(ADA), prompt)
    ready = ClipReady("job", clip_id, "", prompt, "@ada", 64, 64, 1.0, 10)
    before = len(api.of("sendVideo"))
    await bot.core.port("telegram").send_clip(CHAT, ready, b"not really a video", reply_to=None)
    return clip_id, (await api.wait_for("sendVideo", before + 1))[before]


async def test_without_admin_reactions_never_arrive_and_the_heart_counts(
    api: BotApi, bot: Services
) -> None:
    clip_id, video = await post_clip(api, bot, "a frog on a unicycle")
    labels = [b["text"] for b in video.params["reply_markup"]["inline_keyboard"][0]]
    assert labels[0] == "❤️"  # the bot is no admin: a heart button stands in for reactions
    assert api.of("getChatMember")

    await api.react(BOB, video.result, ["👍"])
    assert [u["message_reaction"]["user"]["id"] for u in api.withheld] == [BOB["id"]]

    answers = len(api.of("answerCallbackQuery"))
    await api.press(BOB, video.result, button(video, "❤️"))
    await api.wait_for("answerCallbackQuery", answers + 1)
    await api.press(CAROL, video.result, button(video, "❤️"))
    await api.wait_for("answerCallbackQuery", answers + 2)
    await api.press(BOB, video.result, button(video, "❤️"))
    said = await api.wait_for("answerCallbackQuery", answers + 3)
    assert [call.params.get("text", "") for call in said[answers:]] == [
        f"❤️ You like #{clip_id} (1 in all).",
        f"❤️ You like #{clip_id} (2 in all).",
        f"You took your ❤️ back from #{clip_id} (1 in all).",
    ]

    answer = await ask_feed(api, "/feed")
    assert "Make me an admin" in answer.params["text"]
    assert "❤️ 1" in answer.params["text"]

    # Once the bot is made an admin (and the check is due again) clips carry no heart.
    api.make_admin(GROUP)
    bot.core.port("telegram")._admin.clear()  # type: ignore[attr-defined]
    _, later = await post_clip(api, bot, "a second frog")
    labels = [b["text"] for b in later.params["reply_markup"]["inline_keyboard"][0]]
    assert "❤️" not in labels


async def test_feed_pages_with_buttons_and_always_links_the_feed_page(
    api: BotApi, bot: Services
) -> None:
    ids = [
        await posted_clip(bot.db, CHAT, tg_user(ADA), f"clip {n}", hours_old=20 - n)
        for n in range(10)
    ]
    first = await ask_feed(api, "/feed new")
    assert listed(first) == ids[::-1][:8]
    assert "/f/" in first.params["text"] and "feed page" in first.params["text"]
    [[next_page]] = first.params["reply_markup"]["inline_keyboard"]
    assert next_page["text"] == "Next ▶" and len(next_page["callback_data"].encode()) <= 64

    edits = len(api.of("editMessageText"))
    await api.press(ADA, first.result, next_page["callback_data"])
    turned = (await api.wait_for("editMessageText", edits + 1))[edits]
    assert int(turned.params["message_id"]) == first.result["message_id"]
    assert listed(turned) == ids[::-1][8:]
    assert "page 2 of 2" in turned.params["text"] and "/f/" in turned.params["text"]
    [[back]] = turned.params["reply_markup"]["inline_keyboard"]
    assert back["text"] == "◀ Previous"


async def test_remix_by_number_records_the_parent_and_feed_shows_the_chain(
    api: BotApi, bot: Services
) -> None:
    await sora(api, GROUP, "/sora a frog on a unicycle")
    await api.wait_for("deleteMessage")
    videos = len(api.of("sendVideo"))
    await api.say(GROUP, BOB, "/remix 1 make it rain")
    remix = (await api.wait_for("sendVideo", videos + 1))[videos]
    assert "remix: make it rain” by @bob (remix of #1)" in remix.params["caption"]

    chain = await ask_feed(api, "/feed #1")
    lines = chain.params["text"].splitlines()
    assert listed(chain) == [1, 2]
    assert any(line.startswith("└ #2") for line in lines)
    assert "/remix 1 <what should change>" in chain.params["text"]
    of_remix = await ask_feed(api, "/feed #2")
    assert listed(of_remix) == [1, 2] and of_remix.params["text"].count("↑ #1") == 1

    refused = await ask_feed(api, "/remix 99 make it rain")
    assert "no clip #99" in refused.params["text"]

"""The feed through the real discord.py against the emulator: reaction add/remove events change
the ranking, /feed answers with paging buttons, /feed #N shows the chain, /remix N remixes."""

from __future__ import annotations

import asyncio
import re

import discord

from adapters.discord.reactions import reaction_key
from bot.types import ChatRef, ChatUser
from clipcrew.app import Services
from storage import feed as feed_rows
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.emulator_reactions import (
    DIRECT_MESSAGE_REACTIONS,
    GUILD_MESSAGE_REACTIONS,
)
from tests.adapters.discord.interactions import press, slash
from tests.adapters.discord.payloads import Json
from tests.feed_rows import posted_clip

CHAT = ChatRef("discord", str(p.CHANNEL_ID), "memes")


def dc_user(user: Json) -> ChatUser:
    return ChatUser("discord", user["id"], user["global_name"], user["username"])


def on(message_id: str) -> Json:
    return {"id": message_id, "channel_id": str(p.CHANNEL_ID)}


def listed(text: str) -> list[int]:
    return [int(re.findall(r"#(\d+)", line)[0]) for line in text.splitlines() if "“" in line]


async def feed(emulator: Emulator, show: str | None = None) -> tuple[str, str]:
    """`/feed`; returns the answer's message id and text."""
    before = len(emulator.of("edit_original"))
    interaction = await (slash(emulator, "feed", show=show) if show else slash(emulator, "feed"))
    answer = (await emulator.wait_for("edit_original", before + 1))[before]
    assert answer.message_id == emulator.originals[interaction["token"]]
    return str(answer.message_id), str(answer.detail)


async def until_total(services: Services, clip_id: int, n: int) -> None:
    for _ in range(200):
        async with services.db.session() as session:
            if await feed_rows.reaction_total(session, clip_id) == n:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"clip {clip_id} never had {n} reactions")


async def test_feed_commands_and_the_reactions_intent(
    services: Services, emulator: Emulator
) -> None:
    assert {"feed", "remix"} <= set(emulator.commands)
    assert [o["name"] for o in emulator.commands["remix"]["options"]] == ["clip", "change"]
    [identify] = emulator.of("identify")
    assert identify.detail & GUILD_MESSAGE_REACTIONS and identify.detail & DIRECT_MESSAGE_REACTIONS


async def test_reactions_added_and_removed_change_the_ranking(
    services: Services, emulator: Emulator
) -> None:
    older = await posted_clip(
        services.db, CHAT, dc_user(p.ADA), "older", hours_old=3, message_id="7001"
    )
    newer = await posted_clip(
        services.db, CHAT, dc_user(p.BOB), "newer", hours_old=1, message_id="7002"
    )
    _, first = await feed(emulator)
    assert listed(first) == [newer, older]
    assert f"https://discord.com/channels/{p.GUILD_ID}/{p.CHANNEL_ID}/7001" in first
    assert "/f/" in first

    assert await emulator.react(p.BOB, on("7001"), "👍")
    assert await emulator.react(p.CAROL, on("7001"), "🔥")
    await until_total(services, older, 2)
    _, liked = await feed(emulator)
    assert listed(liked) == [older, newer]
    assert "❤️ 2" in liked

    assert await emulator.react(p.CAROL, on("7001"), "🔥", removed=True)
    assert await emulator.react(p.BOB, on("7001"), "👍", removed=True)
    await until_total(services, older, 0)
    _, again = await feed(emulator)
    assert listed(again) == [newer, older]
    async with services.db.session() as session:
        bob = await feed_rows.user_by_platform_id(session, "discord", p.BOB["id"])
    assert bob is not None and bob.username == "bob"  # a removal (id only) kept the name


async def test_feed_pages_in_place(services: Services, emulator: Emulator) -> None:
    ids = [
        await posted_clip(services.db, CHAT, dc_user(p.ADA), f"clip {n}", hours_old=20 - n)
        for n in range(10)
    ]
    message_id, first = await feed(emulator, "new")
    assert listed(first) == ids[::-1][:8]
    await press(emulator, message_id, "Next")
    [turned] = await emulator.wait_for("update_message")
    assert turned.message_id == message_id
    assert listed(str(turned.detail)) == ids[::-1][8:]
    labels = [
        c["label"] for row in emulator.messages[message_id]["components"] for c in row["components"]
    ]
    assert labels == ["◀ Previous"]


async def test_remix_by_number_and_the_chain(services: Services, emulator: Emulator) -> None:
    await slash(emulator, "sora", prompt="a frog on a unicycle")
    await emulator.wait_for("followup")
    await emulator.wait_for("delete_original")
    await slash(emulator, "remix", p.BOB, clip=1, change="make it rain")
    [_, remix] = await emulator.wait_for("followup", 2)
    assert remix.message_id is not None
    content = emulator.messages[remix.message_id]["content"]
    assert "remix: make it rain” by @bob (remix of #1)" in content

    _, chain = await feed(emulator, "#1")
    assert listed(chain) == [1, 2]
    assert any(line.startswith("└ #2") for line in chain.splitlines())


def test_reaction_keys() -> None:
    assert reaction_key(discord.PartialEmoji(name="👍")) == "👍"
    assert reaction_key(discord.PartialEmoji(name="party", id=1234)) == "custom:1234"

"""Discord interactions with fuzzed option values, autocomplete text, button custom ids and
modal prompts, pushed through the emulator's gateway to the real discord.py client and the
adapter (in front of a recording core): each is answered (a command for the core, or a
private refusal), or ignored when it is not ours; nothing fails in a handler."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord import DiscordPort
from adapters.discord.commands import MAX_SEED
from adapters.discord.views import BUTTON_PREFIX, SignedButton
from bot.callbacks import Button, sign
from bot.commands import Generate, Remix
from bot.feed_commands import RemixByNumber, ShowFeed
from tests.adapters.discord import payloads as p
from tests.adapters.discord.conftest import adapter, cameo_core, emulator  # noqa: F401
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.fakes import CameoCore
from tests.adapters.discord.interactions import (
    AUTOCOMPLETE,
    COMMAND,
    COMPONENT,
    command_data,
    submit,
)
from tests.fuzz.profile import FUZZ_SLOW

Json = dict[str, Any]
# Discord sends valid UTF-8; string options hold up to 6000 characters.
chars = st.characters(codec="utf-8")
strings = st.text(chars, max_size=300) | st.lists(
    st.sampled_from(["a", " ", "<@", ">", "<@!", "12345", "900000000000000102", "👩‍🚀", '"']),
    max_size=12,
).map("".join)
RESPONSES = ("ack", "modal", "autocomplete", "update_message")


def answered(emu: Emulator) -> int:
    return sum(1 for event in emu.events if event.kind in RESPONSES)


async def settle(emu: Emulator) -> None:
    """Until the emulator has seen nothing new for a few loop turns: the interaction and
    whatever the adapter did after answering it are over."""
    seen = -1
    async with asyncio.timeout(3):
        while seen != len(emu.events):
            seen = len(emu.events)
            await asyncio.sleep(0.02)


async def answer_after(emu: Emulator, before: int) -> None:
    """Until the interaction is answered (the emulator signals each event it records)."""
    async with asyncio.timeout(3):
        while answered(emu) == before:
            emu._changed.clear()
            await emu._changed.wait()


async def push(emu: Emulator, interaction: Json, *, ours: bool = True) -> None:
    before = answered(emu)
    await emu.interact(interaction)
    if ours:
        await answer_after(emu, before)
    await settle(emu)
    assert answered(emu) == before + ours  # answered exactly once, or not at all if not ours


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed == [], [r.getMessage() for r in failed]


slash_commands = st.one_of(
    st.builds(
        lambda prompt, seed, cameo: ("sora", {"prompt": prompt, "seed": seed, "cameo": cameo}),
        strings,
        st.none() | st.integers(0, MAX_SEED),
        st.none() | strings | st.integers(0, 2**64).map(str),
    ),
    st.builds(lambda show: ("feed", {"show": show}), st.none() | strings),
    st.builds(
        lambda clip, change: ("remix", {"clip": clip, "change": change}),
        st.integers(1, MAX_SEED),
        strings,
    ),
    st.builds(lambda action: ("cameo", {"action": action}), st.none() | strings),
    st.just(("help", {})),
)


@FUZZ_SLOW
@given(command=slash_commands)
async def test_any_slash_command_values_are_answered(
    command: tuple[str, dict[str, Any]],
    adapter: DiscordPort,  # noqa: F811
    emulator: Emulator,  # noqa: F811
    cameo_core: CameoCore,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    name, options = command
    options = {key: value for key, value in options.items() if value is not None}
    before = len(cameo_core.commands)
    data = command_data(emulator, name, options)
    await push(emulator, p.interaction(COMMAND, data, p.ADA, size_limit=emulator.size_limit))
    no_errors(caplog)
    made = cameo_core.commands[before:]
    if name == "sora" and "cameo" in options and not options["cameo"].isdigit():
        assert made == []  # a typed name instead of a pick: told privately to pick one
        return
    assert len(made) == 1
    kind = {"sora": Generate, "feed": ShowFeed, "remix": RemixByNumber}.get(name)
    if kind is not None:
        assert isinstance(made[0], kind)
    if isinstance(made[0], Generate):
        assert made[0].seed == options.get("seed")
        # A person picked while typing (<@id> of someone Discord knows) is read as @name.
        assert f"<@{p.BOB['id']}>" not in made[0].prompt
        bob_named = f"<@{p.BOB['id']}>" in options["prompt"]
        assert bob_named == ("bob" in [m.username for m in made[0].mentions]) or (
            options.get("cameo") == p.BOB["id"]
        )


@FUZZ_SLOW
@given(typed=strings)
async def test_any_autocomplete_text_gets_choices(
    typed: str,
    adapter: DiscordPort,  # noqa: F811
    emulator: Emulator,  # noqa: F811
    cameo_core: CameoCore,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = command_data(emulator, "sora", {"prompt": "a cat", "cameo": typed})
    data["options"][1]["focused"] = True
    await push(emulator, p.interaction(AUTOCOMPLETE, data, p.ADA, size_limit=emulator.size_limit))
    no_errors(caplog)
    assert cameo_core.typed[-1] == ("discord", typed)


def _custom_ids(secret: bytes) -> st.SearchStrategy[str]:
    payload = st.builds(
        lambda code, number, signature: f"{code}:{number}:{signature}",
        st.sampled_from(["rm", "rr", "dl", "ap", "lk", "fd", "zz"]),
        st.integers(0, 2**70).map(str),
        st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True),
    )
    moved = st.builds(  # a real payload, signed for another channel
        lambda action, clip: sign(Button(action, clip), chat_id="another-channel", secret=secret),
        st.sampled_from(["remix", "reroll", "delete", "like"]),
        st.integers(1, 2**40),
    )
    return st.text(chars, min_size=1, max_size=100) | (payload | moved).map(
        lambda x: BUTTON_PREFIX + x
    )


@FUZZ_SLOW
@given(data=st.data())
async def test_any_button_custom_id_is_verified_or_refused_privately(
    data: st.DataObject,
    adapter: DiscordPort,  # noqa: F811
    emulator: Emulator,  # noqa: F811
    cameo_core: CameoCore,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    custom_id = data.draw(_custom_ids(adapter.secret))
    # Discord sends a press only for a button the message has: one the bot put there, stale
    # or signed elsewhere, or anything another app on the message uses.
    button = {"type": 2, "style": 2, "label": "x", "custom_id": custom_id}
    clip = emulator.add_message(
        p.message(p.CHANNEL_ID, "#1 a clip", components=[{"type": 1, "components": [button]}])
    )
    pressed = {"custom_id": custom_id, "component_type": 2}
    interaction = p.interaction(
        COMPONENT, pressed, p.BOB, size_limit=emulator.size_limit, message=clip
    )
    ours = SignedButton.__discord_ui_compiled_template__.fullmatch(custom_id) is not None
    before = len(cameo_core.commands)
    await push(emulator, interaction, ours=ours)
    no_errors(caplog)
    # Nothing forged or moved reaches the core; the presser is told privately.
    assert cameo_core.commands[before:] == []
    if ours:
        [ack] = [e for e in emulator.events if e.kind == "ack"][-1:]
        assert ack.detail["ephemeral"]


@FUZZ_SLOW
@given(prompt=st.text(chars, min_size=1, max_size=400))
async def test_any_remix_modal_prompt_becomes_a_remix(
    prompt: str,
    adapter: DiscordPort,  # noqa: F811
    emulator: Emulator,  # noqa: F811
    cameo_core: CameoCore,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = sign(Button("remix", 7), chat_id=str(p.CHANNEL_ID), secret=adapter.secret)
    button = {"type": 2, "style": 2, "label": "Remix", "custom_id": BUTTON_PREFIX + payload}
    clip = emulator.add_message(
        p.message(p.CHANNEL_ID, "#7 a clip", components=[{"type": 1, "components": [button]}])
    )
    pressed = {"custom_id": BUTTON_PREFIX + payload, "component_type": 2}
    await push(
        emulator,
        p.interaction(COMPONENT, pressed, p.BOB, size_limit=emulator.size_limit, message=clip),
    )
    modal = emulator.of("modal")[-1]
    before = answered(emulator)
    await submit(emulator, modal.detail, prompt, who=p.BOB)
    await answer_after(emulator, before)
    await settle(emulator)
    no_errors(caplog)
    remix = cameo_core.commands[-1]
    assert isinstance(remix, Remix) and remix.prompt == prompt and remix.parent_clip_id == 7

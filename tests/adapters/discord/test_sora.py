"""`/sora` end to end: the real discord.py, core, queue and sketch engine against the emulator."""

from __future__ import annotations

import io
import logging

import av
import pytest

from clipcrew.app import Services
from storage import deliveries
from tests.adapters.discord import payloads as p
from tests.adapters.discord.conftest import TOKEN
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.interactions import slash

MESSAGE_CONTENT = 1 << 15
EPHEMERAL = 64


async def test_sora_acks_shows_progress_and_posts_the_clip_with_buttons(
    services: Services, emulator: Emulator
) -> None:
    interaction = await slash(emulator, "sora", prompt='a cat says "hello"')
    [followup] = await emulator.wait_for("followup")

    [ack] = emulator.of("ack")
    assert ack.detail == {"type": 5, "ephemeral": False}
    assert emulator.originals[interaction["token"]] == ack.message_id
    edits = [e.detail for e in emulator.of("edit_original")]
    assert edits[0].startswith("🎬 Queued: a cat says")
    assert any("%" in edit for edit in edits[1:]), edits

    clip = emulator.messages[followup.message_id]
    assert clip["content"].startswith('#1 “a cat says "hello"” by @ada')
    labels = [c["label"] for row in clip["components"] for c in row["components"]]
    assert labels == ["Remix", "Reroll", "Delete"]
    with av.open(io.BytesIO(emulator.files[followup.message_id])) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        assert sum(1 for _ in container.decode(video=0)) == 12

    # The status message goes once the clip is up, and the clip is known by its message id.
    await emulator.wait_for("delete_original")
    async with services.db.session() as session:
        assert await deliveries.messages_of(session, 1) == [
            ("discord", str(p.CHANNEL_ID), followup.message_id)
        ]


async def test_no_privileged_intents_and_the_token_never_logged(
    emulator: Emulator, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await slash(emulator, "sora", prompt="a frog on a unicycle")
    await emulator.wait_for("followup")
    [identify] = emulator.of("identify")
    assert identify.detail & MESSAGE_CONTENT == 0
    names = {"sora", "help", "cameo", "feed", "remix", "admin", "queue", "Remix clip"}
    names |= {"verify", "Verify"}
    assert set(emulator.commands) == names
    assert TOKEN not in caplog.text


async def test_a_prompt_over_the_limit_is_refused_to_the_person_alone(
    services: Services, emulator: Emulator
) -> None:
    await slash(emulator, "sora", prompt="x" * 1001)
    [whisper] = await emulator.wait_for("followup")
    assert whisper.detail["flags"] & EPHEMERAL
    assert whisper.detail["content"].startswith("🙅 That prompt is 1,001 characters long")
    # The public "thinking" message went first, so nothing is left in the channel.
    [ack] = emulator.of("ack")
    assert [e.message_id for e in emulator.of("delete_original")] == [ack.message_id]


async def test_help_is_ephemeral(services: Services, emulator: Emulator) -> None:
    await slash(emulator, "help")
    [edit] = await emulator.wait_for("edit_original")
    assert emulator.of("ack")[0].detail == {"type": 5, "ephemeral": True}
    assert edit.detail.startswith("Usage: /sora <what should happen>")


async def test_feed_answers_in_the_channel(services: Services, emulator: Emulator) -> None:
    await slash(emulator, "feed")
    [ack] = await emulator.wait_for("ack")
    assert ack.detail == {"type": 5, "ephemeral": False}
    [answer] = await emulator.wait_for("edit_original")
    assert "No clips here this week" in answer.detail and "/f/" in answer.detail


@pytest.mark.parametrize("discord_env", [{"CLIPCREW_MAX_JOBS_PER_USER": 1}])
async def test_over_the_in_flight_cap_is_refused_privately(
    services: Services, emulator: Emulator
) -> None:
    await slash(emulator, "sora", prompt="a slow one")
    await slash(emulator, "sora", prompt="and another")
    whisper = await emulator.first("followup", lambda e: bool(e.detail["flags"] & EPHEMERAL))
    assert whisper.detail["content"] == (
        "🙅 You already have 1 clip cooking. Wait for one to finish, then try again."
    )
    await emulator.wait_for("followup", 2)  # the first clip still arrives


@pytest.mark.parametrize("discord_env", [{"DISCORD_GUILD_IDS": f"{p.GUILD_ID}, 42"}])
async def test_commands_sync_to_the_listed_guilds(services: Services, emulator: Emulator) -> None:
    assert [event.detail for event in emulator.of("sync")] == [str(p.GUILD_ID), "42"]

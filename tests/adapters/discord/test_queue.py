"""The fair, visible queue through the real discord.py client, core, in-process queue and sketch
engine, against the Discord emulator: place and time on the status message, previews as the
status's edited attachment, then the clip; Cancel by the requester (queued, rendering) posts
nothing, and someone else's Cancel is refused."""

from __future__ import annotations

import asyncio

import pytest

from adapters.discord.port import PREVIEW_NAME, DiscordPort
from adapters.discord.views import BUTTON_PREFIX
from bot.ports import Capabilities
from clipcrew.app import Services
from engine import previews
from engine.queue_backends import InProcessQueue
from storage import jobs as job_rows
from storage.models import JobState, utcnow
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator, Event
from tests.adapters.discord.interactions import button_id, press, slash
from tests.factories import make_job

JPEG = b"\xff\xd8"


@pytest.fixture
def fast_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Edits and previews as often as they come (the real limits are seconds apart)."""
    fast = Capabilities(max_upload_bytes=10 * 1024 * 1024, min_edit_interval_s=0.0)
    monkeypatch.setattr(DiscordPort, "capabilities", fast)
    monkeypatch.setattr(previews, "PREVIEW_INTERVAL_S", 0.0)


def is_clip(event: Event) -> bool:
    return any(a["filename"].endswith(".mp4") for a in event.detail.get("attachments", []))


async def clips(emulator: Emulator, count: int) -> list[Event]:
    async with asyncio.timeout(60):
        while len([e for e in emulator.of("followup") if is_clip(e)]) < count:
            await emulator.wait_for("followup", len(emulator.of("followup")) + 1)
    return [e for e in emulator.of("followup") if is_clip(e)]


async def status_of(emulator: Emulator, prompt: str) -> str:
    """The id of the status message (the command's response) that names `prompt`."""
    event = await emulator.first(
        "edit_original", lambda e: "🎬 Queued" in str(e.detail) and prompt in str(e.detail)
    )
    assert event.message_id is not None
    return event.message_id


def job_of(emulator: Emulator, status: str) -> str:
    """The job a status message is about (its id travels in the Cancel button)."""
    payload = button_id(emulator.messages[status], "Cancel").removeprefix(BUTTON_PREFIX)
    return f"{int(payload.split(':')[1]):032x}"


async def state(services: Services, job_id: str) -> JobState | None:
    async with services.db.session() as session:
        return await job_rows.state_of(session, job_id)


async def idle(services: Services) -> None:
    assert isinstance(services.queue, InProcessQueue)
    await services.queue.join()
    await asyncio.sleep(0.3)  # the last events reach the bot


async def pressed_answer(emulator: Emulator, text: str) -> Event:
    return await emulator.first("edit_original", lambda e: text in str(e.detail))


async def test_place_and_time_then_previews_then_the_clip(
    services: Services, emulator: Emulator, fast_edits: None
) -> None:
    await slash(emulator, "sora", who=p.CAROL, prompt="a frog DJ")  # measured for the next
    await clips(emulator, 1)
    # Someone else's clip holds a worker (another process's): Ada's waits for it.
    await make_job(services.db, state=JobState.RUNNING, started_at=utcnow())
    await slash(emulator, "sora", who=p.ADA, prompt="a cat DJ")
    status = await status_of(emulator, "a cat DJ")
    queued = await emulator.first("edit_original", lambda e: e.message_id == status)
    assert "(1st in line · about " in queued.detail
    button_id(emulator.messages[status], "Cancel")  # the status has its Cancel button
    await clips(emulator, 2)
    await idle(services)
    # Previews came as the status's attachment, each a JPEG, swapped edit by edit.
    shown = [e for e in emulator.of("attachments") if e.detail == [PREVIEW_NAME]]
    assert shown and all(data.startswith(JPEG) for _, _, data in emulator.edited_uploads)
    # The clip replaced them: every status message is gone.
    deleted = {e.message_id for e in emulator.of("delete_original")}
    assert status in deleted and {e.message_id for e in shown} <= deleted


@pytest.mark.parametrize(
    "discord_env", [{"CLIPCREW_CLIP_SECONDS": 20, "CLIPCREW_MAX_JOBS_PER_USER": 3}]
)
async def test_cancel_a_queued_and_a_rendering_clip_posts_nothing(
    services: Services, emulator: Emulator
) -> None:
    await slash(emulator, "sora", prompt="a frog DJ")
    first = await status_of(emulator, "a frog DJ")
    await slash(emulator, "sora", prompt="a cat DJ")
    second = await status_of(emulator, "a cat DJ")
    rendering, waiting = job_of(emulator, first), job_of(emulator, second)
    assert await state(services, waiting) is JobState.QUEUED
    await press(emulator, second, "Cancel")
    await pressed_answer(emulator, "✖️ Cancelled.")
    for _ in range(600):  # the worker takes the first up within a moment
        if await state(services, rendering) is JobState.RUNNING:
            break
        await asyncio.sleep(0.05)
    await press(emulator, first, "Cancel")
    await idle(services)
    assert await state(services, rendering) is JobState.CANCELLED
    assert await state(services, waiting) is JobState.CANCELLED
    assert [e for e in emulator.of("followup") if is_clip(e)] == []
    told = [e for e in emulator.of("edit_original") if "You cancelled this clip." in str(e.detail)]
    assert {e.message_id for e in told} == {first, second}


async def test_someone_elses_cancel_is_refused_and_the_clip_comes(
    services: Services, emulator: Emulator
) -> None:
    await slash(emulator, "sora", prompt="a frog DJ")
    status = await status_of(emulator, "a frog DJ")
    await press(emulator, status, "Cancel", who=p.BOB)
    refused = await pressed_answer(emulator, "or an admin of this chat can cancel")
    assert "Only @ada" in refused.detail
    await clips(emulator, 1)


async def test_slash_queue_answers_in_the_channel(services: Services, emulator: Emulator) -> None:
    await slash(emulator, "queue", who=p.BOB)
    [ack] = await emulator.wait_for("ack")
    assert ack.detail == {"type": 5, "ephemeral": False}
    await pressed_answer(emulator, "Nothing is waiting in this chat")

"""The fair, visible queue through the real PTB Application, core, in-process queue and sketch
engine, against the Bot API emulator: place and time on the status message, preview photos
swapped in with editMessageMedia, then the clip; Cancel by the requester (queued, rendering)
posts nothing, and someone else's Cancel is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from telegram import InputMediaPhoto
from telegram.error import BadRequest

from adapters.telegram import port as telegram_port
from bot.ports import Capabilities
from bot.replies import Failed, Progress, Queued
from bot.types import ChatRef
from clipcrew.app import Services
from engine import previews
from engine.previews import jpeg_preview
from engine.queue_backends import InProcessQueue
from storage import jobs as job_rows
from storage.models import JobState, utcnow
from tests.adapters.telegram.conftest import serve, stop_bot
from tests.adapters.telegram.emulator import ADA, BOB, CAROL, GROUP, BotApi, Call, Json
from tests.adapters.telegram.fakes import RecordingCore
from tests.factories import make_job

JPEG = b"\xff\xd8"


@pytest.fixture
async def fast_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Edits and previews as often as they come (the real limits are seconds apart)."""
    monkeypatch.setattr(telegram_port, "MIN_EDIT_INTERVAL_S", 0.0)
    monkeypatch.setattr(telegram_port.TelegramPort, "capabilities", Capabilities(
        max_upload_bytes=telegram_port.MAX_UPLOAD_BYTES, min_edit_interval_s=0.0
    ))  # fmt: skip
    monkeypatch.setattr(previews, "PREVIEW_INTERVAL_S", 0.0)


@pytest.fixture
async def bot(
    api: BotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Two-second clips, so a render lasts long enough to be seen and cancelled.
    services = await serve(api, tmp_path, CLIPCREW_CLIP_SECONDS=2, CLIPCREW_MAX_JOBS_PER_USER=3)
    yield services
    await stop_bot(api, services)


async def status_of(api: BotApi, command: Json) -> Call:
    """The status message the bot posted in reply to `command`."""
    async with asyncio.timeout(30):
        while True:
            for call in api.of("sendMessage"):
                reply = call.params.get("reply_parameters") or {}
                if int(reply.get("message_id", 0)) == command["message_id"]:
                    return call
            await api.wait_for("sendMessage", len(api.of("sendMessage")) + 1)


def cancel_data(call: Call) -> str:
    [[button]] = call.params["reply_markup"]["inline_keyboard"]
    assert button["text"] == "✖️ Cancel"
    return str(button["callback_data"])


async def idle(services: Services) -> None:
    queue = services.queue
    assert isinstance(queue, InProcessQueue)
    await queue.join()
    await asyncio.sleep(0.3)  # the last events reach the bot


async def test_place_and_time_then_previews_then_the_clip(
    api: BotApi, bot: Services, fast_edits: None
) -> None:
    # Carol's clip is measured, so the next one gets a time.
    await api.say(GROUP, CAROL, "/sora a frog DJ")
    await api.wait_for("sendVideo", 1)
    # Someone else's clip holds a worker (another process's): Ada's waits for it.
    await make_job(bot.db, state=JobState.RUNNING, started_at=utcnow())
    command = await api.say(GROUP, ADA, "/sora a cat DJ")
    status = await status_of(api, command)
    assert "(1st in line · about " in status.params["text"]
    cancel_data(status)  # the status has its Cancel button
    await api.wait_for("sendVideo", 2)
    await idle(bot)
    # Previews came as photos (how many depends on how the events batch up), each a JPEG,
    # and every preview message is gone once its clip is up, as is the text status before it.
    assert api.of("sendPhoto") and all(photo.startswith(JPEG) for photo in api.photos)
    deleted = {int(c.params["message_id"]) for c in api.of("deleteMessage")}
    photos = {c.result["message_id"] for c in api.of("sendPhoto")}
    assert photos <= deleted and status.result["message_id"] in deleted


async def test_a_preview_turns_the_status_into_a_photo_swapped_in_place(
    api: BotApi, core: RecordingCore, fast_edits: None
) -> None:
    port = core.ports["telegram"]
    chat = ChatRef("telegram", str(GROUP["id"]))
    status = await port.post(chat, Queued("ab", 1, "a frog DJ"), reply_to=None)
    frame = jpeg_preview(np.full((64, 64, 3), 90, np.uint8))
    moved = await port.edit(status, Progress("ab", 10, "rendering", preview=frame))
    assert moved is not None and moved != status
    # Telegram cannot give a text message a photo: a photo message replaced it.
    [photo] = api.of("sendPhoto")
    assert photo.files["photo"] == frame and photo.params["caption"].endswith("rendering")
    assert [int(c.params["message_id"]) for c in api.of("deleteMessage")] == [
        int(status.message_id)
    ]
    # The next preview is swapped in place, with the caption and the Cancel button.
    assert await port.edit(moved, Progress("ab", 50, "rendering", preview=frame)) is None
    [media] = api.of("editMessageMedia")
    assert media.params["media"]["type"] == "photo" and list(media.files.values()) == [frame]
    assert media.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "✖️ Cancel"
    # Words alone go to the caption; a text edit would be refused on a photo.
    await port.edit(moved, Failed("You cancelled this clip.", "ab"))
    [caption] = api.of("editMessageCaption")
    assert "cancelled" in caption.params["caption"] and "reply_markup" not in caption.params
    assert api.of("editMessageText") == []
    assert api.message(GROUP["id"], int(moved.message_id))["caption"].endswith(
        "cancelled this clip."
    )


async def test_the_emulator_refuses_what_telegram_refuses(api: BotApi, core: RecordingCore) -> None:
    port = core.ports["telegram"]
    chat = ChatRef("telegram", str(GROUP["id"]))
    status = await port.post(chat, Queued("ab", 1, "a frog DJ"), reply_to=None)
    bot = port.bot  # type: ignore[attr-defined]
    with pytest.raises(BadRequest, match="no media"):
        await bot.edit_message_media(
            media=InputMediaPhoto(b"\xff\xd8x"),
            chat_id=GROUP["id"],
            message_id=int(status.message_id),
        )


async def test_cancel_a_queued_and_a_rendering_clip_posts_nothing(
    api: BotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Long clips: the first renders for a few seconds while the second waits behind it.
    services = await serve(api, tmp_path, CLIPCREW_CLIP_SECONDS=20, CLIPCREW_MAX_JOBS_PER_USER=3)
    try:
        first = await api.say(GROUP, ADA, "/sora a frog DJ")
        second = await api.say(GROUP, ADA, "/sora a cat DJ")
        rendering, waiting = await status_of(api, first), await status_of(api, second)
        assert await state(services, waiting) is JobState.QUEUED
        await api.press(ADA, waiting.result, cancel_data(waiting))
        [answer] = await api.wait_for("answerCallbackQuery")
        assert answer.params["text"] == "✖️ Cancelled."
        for _ in range(600):  # the worker takes the first up within a moment
            if await state(services, rendering) is JobState.RUNNING:
                break
            await asyncio.sleep(0.05)
        await api.press(ADA, rendering.result, cancel_data(rendering))
        await api.wait_for("answerCallbackQuery", 2)
        await idle(services)
        assert await state(services, rendering) is JobState.CANCELLED
    finally:
        await stop_bot(api, services)
    assert api.of("sendVideo") == []
    texts = [c.params["text"] for c in api.of("editMessageText")]
    texts += [c.params.get("caption", "") for c in api.of("editMessageCaption")]
    assert sum("You cancelled this clip." in text for text in texts) == 2


async def state(services: Services, status: Call) -> JobState | None:
    """The state of the job whose status message this is (its id is in the Cancel button)."""
    job_id = f"{int(cancel_data(status).split(':')[1]):032x}"
    async with services.db.session() as session:
        return await job_rows.state_of(session, job_id)


async def test_someone_elses_cancel_is_refused_and_the_clip_comes(
    api: BotApi, bot: Services
) -> None:
    command = await api.say(GROUP, ADA, "/sora a frog DJ")
    status = await status_of(api, command)
    await api.press(BOB, status.result, cancel_data(status))
    [answer] = await api.wait_for("answerCallbackQuery")
    assert "Only @ada or an admin of this chat can cancel" in answer.params["text"]
    await api.wait_for("sendVideo", 1)


async def test_slash_queue_answers_anyone_in_the_chat(api: BotApi, bot: Services) -> None:
    command = await api.say(GROUP, BOB, "/queue")
    answer = await status_of(api, command)
    assert answer.params["text"].startswith("Nothing is waiting in this chat.")
    await api.say(GROUP, ADA, "/sora a frog DJ")
    await api.wait_for("sendVideo", 1)

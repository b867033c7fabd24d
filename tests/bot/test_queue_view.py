"""Places in line and times from measured durations, live waiting messages, the bar's time
left and preview, and /queue: the core with a recording port."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import queue_view
from bot.queue_commands import ShowQueue
from bot.replies import Note, Progress, Queued
from bot.types import ChatRef
from engine.events import JobEvent
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import JobState, utcnow
from storage.people import upsert_user
from tests.bot.harness import Bot, make_bot, sora, start
from tests.factories import make_job
from tests.fakes import CHAT, person


async def measured(db: Database, *seconds: float) -> None:
    """Finished sketch clips of the bot's shape (sizes left to the engine) that took `seconds`."""
    now = utcnow()
    async with db.transaction() as session:
        # Someone else's clips, so nobody in the tests has had a turn lately.
        past = await upsert_user(
            session, platform="test", platform_user_id="past", display_name="Past", username=None
        )
    for taken in seconds:
        await make_job(
            db, state=JobState.DONE, width=None, height=None, fps=None, duration_s=None,
            author_id=past.id, started_at=now - timedelta(seconds=taken), finished_at=now,
        )  # fmt: skip


async def test_without_measurements_the_place_shows_and_no_time(bot: Bot) -> None:
    first = await bot.core.handle(sora("one", who=1))
    second = await bot.core.handle(sora("two", who=2))
    assert isinstance(first, Queued) and isinstance(second, Queued)
    assert (first.eta_s, second.eta_s) == (None, None)
    assert first.text.endswith("(starting now)") and second.text.endswith("(1st in line)")


async def test_the_queued_message_shows_place_and_time_from_measured_clips(bot: Bot) -> None:
    await measured(bot.db, 50.0, 60.0, 70.0)
    first = await bot.core.handle(sora("one", who=1))
    second = await bot.core.handle(sora("two", who=2))
    third = await bot.core.handle(sora("three", who=3))
    assert isinstance(first, Queued) and isinstance(second, Queued) and isinstance(third, Queued)
    assert first.eta_s == pytest.approx(60.0)
    assert "(2nd in line · about 3 min)" in third.text
    # One renders for 30 s already: the rest move up and their times shrink.
    await start(bot.db, first.job_id, ago_s=30)
    view = await queue_view.snapshot(bot.core.deps)
    assert view.of(second.job_id).position == 1
    assert view.of(second.job_id).eta_s == pytest.approx(90.0, abs=2)
    assert view.of(third.job_id).eta_s == pytest.approx(150.0, abs=2)


async def test_fair_places_put_a_newcomer_before_a_heavy_users_second(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    bot = make_bot(sqlite_db, blobs, max_jobs_per_user=5)
    mine = [await bot.core.handle(sora(f"mine {n}", who=1)) for n in range(3)]
    theirs = await bot.core.handle(sora("theirs", who=2))
    assert all(isinstance(q, Queued) for q in [*mine, theirs])
    assert isinstance(theirs, Queued) and theirs.position == 1


async def test_waiting_messages_are_edited_as_the_queue_moves(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_view, "MIN_QUEUE_EDIT_S", 0.0)
    await measured(bot.db, 60.0)
    jobs = [await bot.core.handle(sora(f"clip {n}", who=n)) for n in (1, 2, 3)]
    assert all(isinstance(job, Queued) for job in jobs)
    first, second, third = (job.job_id for job in jobs if isinstance(job, Queued))
    await start(bot.db, first)
    async with bot.db.transaction() as session:
        await job_rows.transition(session, first, JobState.DONE)
    await start(bot.db, second)
    await bot.core.on_event(JobEvent(job_id=second, kind="started"))
    edits = [s.reply for s in bot.port.sent if s.action == "edit" and isinstance(s.reply, Queued)]
    assert [(e.job_id, e.position) for e in edits] == [(third, 1)]
    # The first clip took no time at all: the median of 60 s and ~0 s is 30 s.
    assert "1st in line · about 1 min" in edits[0].text


async def test_the_bar_shows_time_left_and_the_preview_frame(bot: Bot) -> None:
    await measured(bot.db, 60.0)
    queued = await bot.core.handle(sora("one"))
    assert isinstance(queued, Queued)
    await start(bot.db, queued.job_id, ago_s=15)
    key = await bot.blobs.put(b"\xff\xd8 a tiny jpeg", "jpg")
    event = JobEvent(
        job_id=queued.job_id, kind="progress", stage="rendering", fraction=0.2, preview_key=key
    )
    await bot.core.on_event(event)
    [bar] = [s.reply for s in bot.port.sent if isinstance(s.reply, Progress)]
    assert bar.preview == b"\xff\xd8 a tiny jpeg"
    assert bar.eta_s is not None and 30 < bar.eta_s < 60
    assert bar.text.endswith("left") and [c.label for c in bar.choices] == ["✖️ Cancel"]


async def test_a_preview_already_deleted_shows_the_bar_without_it(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one"))
    assert isinstance(queued, Queued)
    event = JobEvent(job_id=queued.job_id, kind="progress", fraction=0.3, preview_key="f" * 64)
    await bot.core.on_event(event)
    [bar] = [s.reply for s in bot.port.sent if isinstance(s.reply, Progress)]
    assert bar.preview is None


async def test_slash_queue_lists_this_chats_clips_in_the_order_they_start(bot: Bot) -> None:
    await measured(bot.db, 60.0)
    first = await bot.core.handle(sora("a frog DJ", who=1))
    second = await bot.core.handle(sora("a cat DJ", who=1))
    third = await bot.core.handle(sora("a dog DJ", who=2))
    assert isinstance(first, Queued) and isinstance(second, Queued) and isinstance(third, Queued)
    await start(bot.db, first.job_id, ago_s=20)
    answer = await bot.core.handle(ShowQueue(person(3), CHAT))
    assert isinstance(answer, Note)
    lines = answer.text.splitlines()[1:]
    # Rendering first; then fair share: person 2's first clip before person 1's second.
    assert lines == [
        "• @person1: “a frog DJ” (rendering, about 40 s left)",
        "• @person2: “a dog DJ” (next, done in about 2 min)",
        "• @person1: “a cat DJ” (2nd in line, done in about 3 min)",
    ]
    [posted] = [s for s in bot.port.sent if s.reply == answer]
    assert posted.action == "post" and posted.chat == CHAT
    elsewhere = await bot.core.handle(ShowQueue(person(3), ChatRef("test", "another-room")))
    assert isinstance(elsewhere, Note) and elsewhere.text.startswith("Nothing is waiting")

"""Places in line, estimates from measured durations, live waiting messages, the bar's time
left and preview, and Cancel on a status message: the core with a recording port."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import queue_view
from bot.admin_commands import CancelJob
from bot.queue_commands import ShowQueue
from bot.replies import Failed, Note, Progress, Queued, Refused
from bot.types import ChatRef
from engine.events import JobEvent
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.estimates import Shape, durations_from, finish_times, time_left
from storage.models import Job, JobState, utcnow
from storage.people import upsert_user
from tests.bot.harness import Bot, make_bot, sora
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


async def start(db: Database, job_id: str, *, ago_s: float = 0.0) -> None:
    async with db.transaction() as session:
        await job_rows.transition(
            session, job_id, JobState.RUNNING, started_at=utcnow() - timedelta(seconds=ago_s)
        )


def test_estimates_are_medians_per_shape_with_the_pool_as_fallback() -> None:
    small = Shape("sketch", 64, 64, 8, 1.0)
    big = Shape("sketch", 512, 512, 24, 5.0)
    durations = durations_from([(small, 2.0), (small, 4.0), (small, 90.0), (big, 30.0)])
    assert durations.of(small) == 4.0  # one slow outlier does not move a median
    assert durations.of(Shape("sketch", 128, 128, 8, 1.0)) == pytest.approx(17.0)
    assert durations.of(Shape("diffusers", None, None, None, None)) is None


def test_finish_times_fill_the_workers_as_they_free_up() -> None:
    # Two workers, 10 s and 30 s left: the queued 20 s jobs finish at 30, 50 and 50.
    assert finish_times([10.0, 30.0], [20.0, 20.0, 20.0]) == [30.0, 50.0, 50.0]
    assert finish_times([], [5.0, 5.0]) == [5.0, 10.0]
    assert finish_times([None], [5.0]) == [None]
    assert finish_times([], [5.0, None, 5.0]) == [5.0, None, None]


def test_time_left_moves_from_the_estimate_to_the_render_pace() -> None:
    assert time_left(elapsed_s=10, fraction=0.0, estimate_s=60) == 50
    assert time_left(elapsed_s=10, fraction=0.5, estimate_s=None) == 10
    both = time_left(elapsed_s=30, fraction=0.5, estimate_s=100)
    assert both is not None and 30 < both < 70
    assert time_left(elapsed_s=1, fraction=0.01, estimate_s=None) is None


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


async def test_the_requester_cancels_a_queued_clip_and_nothing_is_posted(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued) and [c.label for c in queued.choices] == ["✖️ Cancel"]
    answer = await bot.core.handle(CancelJob(queued.job_id, person(1), CHAT))
    assert answer == Note("✖️ Cancelled.")
    async with bot.db.session() as session:
        job = await session.get(Job, queued.job_id)
    assert job is not None and job.state is JobState.CANCELLED
    told = [s for s in bot.port.sent if isinstance(s.reply, Failed)]
    assert [s.action for s in told] == ["edit"] and "cancelled" in told[0].reply.reason
    assert not [s for s in bot.port.sent if s.action == "clip"]


async def test_someone_elses_cancel_is_refused(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued)
    answer = await bot.core.handle(CancelJob(queued.job_id, person(2), CHAT))
    assert isinstance(answer, Refused)
    assert "Only @person1 or an admin of this chat can cancel" in answer.text
    async with bot.db.session() as session:
        assert await job_rows.state_of(session, queued.job_id) is JobState.QUEUED


async def test_a_cancel_after_the_clip_is_done_says_so(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued)
    await start(bot.db, queued.job_id)
    async with bot.db.transaction() as session:
        await job_rows.transition(session, queued.job_id, JobState.DONE)
    answer = await bot.core.handle(CancelJob(queued.job_id, person(1), CHAT))
    assert answer == Refused("That clip already finished.")


async def test_an_admin_of_the_chat_cancels_anyones_clip_there_not_elsewhere(bot: Bot) -> None:
    queued = await bot.core.handle(sora("one", who=1))
    assert isinstance(queued, Queued)
    elsewhere = ChatRef(platform=CHAT.platform, chat_id="another-room")
    refused = await bot.core.handle(CancelJob(queued.job_id, person(2), elsewhere, is_admin=True))
    assert isinstance(refused, Refused)
    answer = await bot.core.handle(CancelJob(queued.job_id, person(2), CHAT, is_admin=True))
    assert answer == Note("✖️ Cancelled.")
    told = [s.reply for s in bot.port.sent if isinstance(s.reply, Failed)]
    assert [t.reason for t in told] == ["An admin of this chat cancelled this clip."]


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

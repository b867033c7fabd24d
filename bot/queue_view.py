"""Where each clip stands: its place in line and when it will likely be done while it waits,
its time left while it renders. Places follow fair share (storage.fairness); times come from
measured durations of recent clips of the same pool, size and length (storage.estimates).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.deps import Deps
from bot.ports import ChatPort
from bot.replies import Note, Queued, about, ordinal
from bot.rows import chat_ref
from bot.types import ChatRef, MessageRef
from engine.events import Delivered, JobEvent
from storage import estimates, fair_claims
from storage import jobs as job_rows
from storage.fairness import Waiting
from storage.models import Chat, Job, JobState, User, utcnow

log = logging.getLogger(__name__)

# Waiting messages are refreshed at most this often (each refresh reads the queue once).
REFRESH_S = 5.0
# A waiting message is edited at most this often, or the platform's own interval if longer:
# a place in line is worth less than the chat's rate limit.
MIN_QUEUE_EDIT_S = 10.0


@dataclass(frozen=True)
class Standing:
    job_id: str
    # 0: starts now (nothing ahead, nothing running); n: the n-th to start.
    position: int
    # Seconds until it is likely done; None while nothing comparable has been measured.
    eta_s: float | None


@dataclass(frozen=True)
class Snapshot:
    """The whole queue at one moment: fair order, each job's standing, the measured durations."""

    order: list[Waiting]
    standings: dict[str, Standing]
    durations: estimates.Durations
    running: int

    def of(self, job_id: str) -> Standing:
        # A job no longer queued (it just started) stands first.
        return self.standings.get(job_id, Standing(job_id, 0, None))


async def snapshot(deps: Deps, *, now: datetime | None = None) -> Snapshot:
    now = now or utcnow()
    async with deps.db.session() as session:
        order = await fair_claims.fair_queue(session, now=now)
        shapes = await estimates.queued_shapes(session)
        running = await estimates.running_jobs(session)
        engines = [s.engine for s in shapes.values()] + [r.shape.engine for r in running]
        durations = await estimates.recent_durations(session, engines)
    left = [_left(durations, job, now) for job in running]
    queued = [durations.of(shapes[w.job_id]) if w.job_id in shapes else None for w in order]
    finishes = estimates.finish_times(left, queued)
    busy = 1 if running else 0
    standings = {
        waiting.job_id: Standing(waiting.job_id, index + busy, finish)
        for index, (waiting, finish) in enumerate(zip(order, finishes, strict=True))
    }
    return Snapshot(order, standings, durations, len(running))


def _left(durations: estimates.Durations, job: estimates.Running, now: datetime) -> float | None:
    estimate = durations.of(job.shape)
    if estimate is None:
        return None
    return estimate - estimates.elapsed(job.started_at, now)


async def standings(deps: Deps, job_ids: list[str]) -> list[Standing | Exception]:
    """The standing of many new jobs from one read of the queue (batched like record_jobs)."""
    view = await snapshot(deps)
    return [view.of(job_id) for job_id in job_ids]


@dataclass
class RenderClock:
    """A rendering job's time left: when it started and how long its kind takes, read once per
    job (also for a job that started before this bot process did)."""

    deps: Deps
    _known: dict[str, tuple[float, float | None]] = field(default_factory=dict)

    async def left(self, job_id: str, fraction: float) -> float | None:
        if job_id not in self._known:
            self._known[job_id] = await self._load(job_id)
        started, estimate = self._known[job_id]
        return estimates.time_left(
            elapsed_s=time.monotonic() - started, fraction=fraction, estimate_s=estimate
        )

    async def _load(self, job_id: str) -> tuple[float, float | None]:
        async with self.deps.db.session() as session:
            job = await session.get(Job, job_id)
            if job is None:
                return time.monotonic(), None
            durations = await estimates.recent_durations(session, [job.engine])
        elapsed = estimates.elapsed(job.started_at, utcnow()) if job.started_at else 0.0
        return time.monotonic() - max(0.0, elapsed), durations.of(estimates.Shape.of(job))

    def forget(self, job_id: str) -> None:
        self._known.pop(job_id, None)


@dataclass
class WaitingMessages:
    """Keeps every waiting clip's status message showing its place and time as the queue
    moves, within each platform's edit rate."""

    deps: Deps
    ports: dict[str, ChatPort]
    _shown: dict[str, tuple[str, float]] = field(default_factory=dict)
    _last_refresh: float = float("-inf")

    def posted(self, job_id: str, text: str) -> None:
        """The waiting message was just posted with `text`: no edit is due yet."""
        self._shown[job_id] = (text, time.monotonic())

    async def refresh(self, *, force: bool = False) -> int:
        """Edit the waiting messages whose text changed; returns how many were edited."""
        now = time.monotonic()
        if not force and now - self._last_refresh < REFRESH_S:
            return 0
        self._last_refresh = now
        view = await snapshot(self.deps)
        statuses = await _statuses(self.deps, [w.job_id for w in view.order])
        edited = 0
        for job, chat in statuses:
            if await self._show(job, chat, view.of(job.id), now):
                edited += 1
        self._shown = {job_id: s for job_id, s in self._shown.items() if job_id in view.standings}
        return edited

    async def _show(self, job: Job, chat: Chat, standing: Standing, now: float) -> bool:
        port = self.ports.get(chat.platform)
        if port is None or not port.capabilities.edits or job.status_message_id is None:
            return False
        reply = Queued(
            job_id=job.id,
            position=standing.position,
            prompt=job.prompt,
            remix_of=job.parent_clip_id,
            eta_s=standing.eta_s,
        )
        shown = self._shown.get(job.id)
        interval = max(MIN_QUEUE_EDIT_S, port.capabilities.min_edit_interval_s)
        if shown is not None and (shown[0] == reply.text or now - shown[1] < interval):
            return False
        try:
            await port.edit(MessageRef(chat_ref(chat), job.status_message_id), reply)
        except Exception:
            log.warning("could not update a waiting message", extra={"job_id": job.id})
            return False
        self._shown[job.id] = (reply.text, now)
        return True


async def _statuses(deps: Deps, job_ids: list[str]) -> list[tuple[Job, Chat]]:
    if not job_ids:
        return []
    async with deps.db.session() as session:
        return await job_rows.queued_with_chats(session, job_ids)


async def preview_of(deps: Deps, event: JobEvent) -> bytes | None:
    """The preview frame an event names, if it can still be read (the worker deletes its
    previews when the job ends; a late event simply shows none)."""
    if event.preview_key is None:
        return None
    try:
        return await deps.blobs.read(event.preview_key)
    except Exception:
        log.info("preview frame gone", extra={"job_id": event.job_id})
        return None


def with_preview(delivered: Delivered, before: list[Delivered]) -> Delivered:
    """A progress event without a preview frame takes the newest one among the stale events
    before it in its batch (else a burst of events could skip every preview)."""
    event = delivered.event
    if event.kind != "progress" or event.preview_key is not None:
        return delivered
    keys = [d.event.preview_key for d in before if d.event.preview_key is not None]
    if not keys:
        return delivered
    return Delivered(delivered.id, replace(event, preview_key=keys[-1]))


# The /queue answer lists this many clips at most.
LISTED = 15


async def chat_queue(deps: Deps, chat: ChatRef, command: str) -> Note:
    """`/queue`: this chat's clips rendering and waiting, in the order they will start, each
    with its place and a rough time."""
    view = await snapshot(deps)
    now = utcnow()
    async with deps.db.session() as session:
        rows = await job_rows.in_flight_in_chat(session, chat.platform, chat.chat_id)
    if not rows:
        return Note(
            f"Nothing is waiting in this chat. Start a clip with /{command} <what happens>."
        )
    running = [(job, user) for job, user in rows if job.state == JobState.RUNNING]
    order = {job_id: index for index, job_id in enumerate(w.job_id for w in view.order)}
    waiting = sorted(
        ((job, user) for job, user in rows if job.state == JobState.QUEUED),
        key=lambda row: order.get(row[0].id, len(order)),
    )
    lines = [_running_line(job, user, view, now) for job, user in running]
    lines += [_waiting_line(job, user, view.of(job.id)) for job, user in waiting]
    more = f"\n…and {len(lines) - LISTED} more." if len(lines) > LISTED else ""
    head = "⏳ This chat's clips (one person's next clip after another's, in turn):"
    return Note("\n".join([head, *lines[:LISTED]]) + more)


def _prompt(job: Job) -> str:
    return job.prompt if len(job.prompt) <= 50 else job.prompt[:49] + "…"


def _running_line(job: Job, user: User, view: Snapshot, now: datetime) -> str:
    estimate = view.durations.of(estimates.Shape.of(job))
    left = None
    if estimate is not None and job.started_at is not None:
        left = max(0.0, estimate - estimates.elapsed(job.started_at, now))
    when = f", {about(left)} left" if left is not None else ""
    return f"• {user.handle}: “{_prompt(job)}” (rendering{when})"


def _waiting_line(job: Job, user: User, standing: Standing) -> str:
    place = "next" if standing.position <= 1 else f"{ordinal(standing.position)} in line"
    when = f", done in {about(standing.eta_s)}" if standing.eta_s is not None else ""
    return f"• {user.handle}: “{_prompt(job)}” ({place}{when})"

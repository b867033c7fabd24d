"""How long a clip takes, measured: recent finished jobs of the same engine (its worker pool),
size and length, and what that means for the jobs waiting now.

No constants stand in for a measurement: with nothing measured yet, there is no estimate, and
the person sees their place in line without a time.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.fairness import plain_utc
from storage.models import Job, JobState

# How many recent clips of a pool the estimates are drawn from.
RECENT = 60


@dataclass(frozen=True)
class Shape:
    """What makes one clip take longer than another on the same pool."""

    engine: str
    width: int | None
    height: int | None
    fps: int | None
    duration_s: float | None

    @classmethod
    def of(cls, job: Job) -> Shape:
        return cls(job.engine, job.width, job.height, job.fps, job.duration_s)


@dataclass(frozen=True)
class Durations:
    """Median seconds from start to finish, per shape and per pool (engine) as a fallback."""

    by_shape: dict[Shape, float] = field(default_factory=dict)
    by_engine: dict[str, float] = field(default_factory=dict)

    def of(self, shape: Shape) -> float | None:
        found = self.by_shape.get(shape)
        return found if found is not None else self.by_engine.get(shape.engine)


def durations_from(samples: Sequence[tuple[Shape, float]]) -> Durations:
    """The medians of measured (shape, seconds) samples; a median shrugs off one slow outlier."""
    shapes: dict[Shape, list[float]] = {}
    engines: dict[str, list[float]] = {}
    for shape, seconds in samples:
        shapes.setdefault(shape, []).append(seconds)
        engines.setdefault(shape.engine, []).append(seconds)
    return Durations(
        by_shape={shape: statistics.median(s) for shape, s in shapes.items()},
        by_engine={engine: statistics.median(s) for engine, s in engines.items()},
    )


async def recent_durations(session: AsyncSession, engines: Sequence[str]) -> Durations:
    """Measured durations of the last RECENT finished clips of each pool in `engines`."""
    samples: list[tuple[Shape, float]] = []
    for engine in sorted(set(engines)):
        query = (
            select(Job)
            .where(
                Job.engine == engine,
                Job.state == JobState.DONE,
                col(Job.started_at).is_not(None),
                col(Job.finished_at).is_not(None),
            )
            .order_by(col(Job.finished_at).desc())
            .limit(RECENT)
        )
        for job in (await session.exec(query)).all():
            assert job.started_at is not None and job.finished_at is not None
            seconds = (plain_utc(job.finished_at) - plain_utc(job.started_at)).total_seconds()
            if seconds > 0:
                samples.append((Shape.of(job), seconds))
    return durations_from(samples)


def finish_times(
    running_left_s: Sequence[float | None], queued_s: Sequence[float | None]
) -> list[float | None]:
    """Seconds from now until each queued job (in start order) is done, as workers free up:
    each running job holds a worker for its time left, and the pool has as many workers as
    jobs running (at least one: with jobs waiting, every worker is busy). Where a running job
    or a queued one has no estimate, that job and every job after it get None."""
    known = all(left is not None for left in running_left_s)
    free = [max(0.0, left or 0.0) for left in running_left_s] or [0.0]
    heapq.heapify(free)
    times: list[float | None] = []
    for seconds in queued_s:
        known = known and seconds is not None
        start = heapq.heappop(free)
        finish = start + (seconds or 0.0)
        heapq.heappush(free, finish)
        times.append(finish if known else None)
    return times


def time_left(*, elapsed_s: float, fraction: float, estimate_s: float | None) -> float | None:
    """A rendering job's time left: from the measured estimate at first, from its own pace as
    it gets going (each weighted by how far it is)."""
    fraction = min(max(fraction, 0.0), 1.0)
    by_estimate = max(0.0, estimate_s - elapsed_s) if estimate_s is not None else None
    if fraction < 0.05 or elapsed_s <= 0:
        return by_estimate
    by_pace = elapsed_s * (1 - fraction) / fraction
    if by_estimate is None:
        return by_pace
    return fraction * by_pace + (1 - fraction) * by_estimate


@dataclass(frozen=True)
class Running:
    """A job holding a worker: its shape, and when it started."""

    shape: Shape
    started_at: datetime


async def queued_shapes(session: AsyncSession) -> dict[str, Shape]:
    """The shape of every queued job, by id."""
    rows = (await session.exec(select(Job).where(Job.state == JobState.QUEUED))).all()
    return {job.id: Shape.of(job) for job in rows}


async def running_jobs(session: AsyncSession) -> list[Running]:
    query = select(Job).where(Job.state == JobState.RUNNING, col(Job.started_at).is_not(None))
    rows = (await session.exec(query)).all()
    return [Running(Shape.of(job), job.started_at) for job in rows if job.started_at is not None]


def elapsed(started_at: datetime, now: datetime) -> float:
    return (plain_utc(now) - plain_utc(started_at)).total_seconds()


async def waiting_stats(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many jobs wait in the queue, and when the oldest of them was queued."""
    query = select(func.count(), func.min(Job.created_at)).where(Job.state == JobState.QUEUED)
    count, oldest = (await session.exec(query)).one()
    return int(count), oldest

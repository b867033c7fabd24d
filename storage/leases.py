"""Worker leases on running jobs: a worker holds a job only while it keeps renewing its lease.

A worker that stops renewing (killed, out of memory, a lost machine) loses the job once the
lease runs out: `reclaim_lapsed` puts it back in the queue for another worker, or ends it after
too many tries. Every statement is one conditional UPDATE, so two sweepers (or a sweeper and
the worker coming back to life) cannot both act on the same job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Job, JobState, utcnow

JOBS = Job.__table__  # type: ignore[attr-defined]


def claimable(now: datetime) -> ColumnElement[bool]:
    """Jobs a worker may claim: queued ones, and running ones whose lease has run out (or that
    never had one: a job left running by a process that stopped before leases)."""
    return or_(
        JOBS.c.state == JobState.QUEUED,
        and_(
            JOBS.c.state == JobState.RUNNING,
            or_(JOBS.c.lease_until.is_(None), JOBS.c.lease_until < now),
        ),
    )


async def renew(session: AsyncSession, job_id: str, worker: str, until: datetime) -> bool:
    """Extend `worker`'s lease on the job; False when the job is no longer its to run
    (cancelled, finished, or taken over after a lapse)."""
    result = await session.exec(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.state == JobState.RUNNING, JOBS.c.worker == worker)
        .values(lease_until=until)
    )
    return bool(result.rowcount)


async def hand_back(session: AsyncSession, job_id: str, worker: str) -> bool:
    """A worker stopping on purpose returns its running job to the queue at once. It was no
    fault of the job, so the try is not counted."""
    result = await session.exec(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.state == JobState.RUNNING, JOBS.c.worker == worker)
        .values(
            state=JobState.QUEUED,
            worker=None,
            lease_until=None,
            attempts=JOBS.c.attempts - 1,
            updated_at=utcnow(),
        )
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class Reclaimed:
    # (job id, tries so far): back in the queue for another worker.
    requeued: list[tuple[str, int]]
    # Out of tries: ended failed with `reason`.
    failed: list[str]


async def reclaim_lapsed(
    session: AsyncSession, *, now: datetime, max_attempts: int, reason: str
) -> Reclaimed:
    lapsed = and_(JOBS.c.state == JobState.RUNNING, JOBS.c.lease_until < now)
    failed = await session.exec(
        update(JOBS)
        .where(lapsed, JOBS.c.attempts >= max_attempts)
        .values(
            state=JobState.FAILED,
            error=reason,
            worker=None,
            lease_until=None,
            finished_at=now,
            updated_at=now,
        )
        .returning(JOBS.c.id)
    )
    failed_ids = [row[0] for row in failed.all()]
    requeued = await session.exec(
        update(JOBS)
        .where(lapsed, JOBS.c.attempts < max_attempts)
        .values(state=JobState.QUEUED, worker=None, lease_until=None, updated_at=now)
        .returning(JOBS.c.id, JOBS.c.attempts)
    )
    return Reclaimed(requeued=[(row[0], row[1]) for row in requeued.all()], failed=failed_ids)

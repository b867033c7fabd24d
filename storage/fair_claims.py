"""Fair share in the database: what waits, what each person and chat has going, and claiming
the fairest queued jobs (storage.fairness decides; this module reads and writes).

A claim is one conditional UPDATE (`state = queued`), so two workers picking the same job at
once cannot both win: the loser sees no row and picks again from what is left.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.fairness import Load, Loads, Waiting, fair_order
from storage.jobs import Claimed
from storage.models import Job, JobState, User, utcnow

JOBS = Job.__table__  # type: ignore[attr-defined]
# A person's last turn counts for this long; after it they are as fresh as a newcomer.
MEMORY = timedelta(hours=6)
# Two workers picking the same job at once: the loser picks again, this many times at most.
CLAIM_ROUNDS = 4


async def waiting(session: AsyncSession, *, chat_id: int | None = None) -> list[Waiting]:
    """Queued jobs (of one chat, or all), oldest first."""
    query = select(Job.id, Job.author_id, Job.chat_id, Job.created_at).where(
        Job.state == JobState.QUEUED
    )
    if chat_id is not None:
        query = query.where(Job.chat_id == chat_id)
    rows = (await session.exec(query.order_by(col(Job.created_at)))).all()
    return [Waiting(job_id=i, author=a, chat=c, created_at=t) for i, a, c, t in rows]


async def loads_of(
    session: AsyncSession, queued: list[Waiting], *, now: datetime | None = None
) -> Loads:
    """Jobs running and the last start, for the people and chats that have jobs waiting."""
    since = (now or utcnow()) - MEMORY
    authors = sorted({job.author for job in queued})
    chats = sorted({job.chat for job in queued})
    return Loads(
        people=await _loads(session, col(Job.author_id), authors, since),
        chats=await _loads(session, col(Job.chat_id), chats, since),
    )


async def _loads(
    session: AsyncSession, column: Any, ids: list[int], since: datetime
) -> dict[int, Load]:
    if not ids:
        return {}
    running = func.sum(case((col(Job.state) == JobState.RUNNING, 1), else_=0))
    query = (
        select(column, running, func.max(Job.started_at))
        .where(column.in_(ids), col(Job.started_at) >= since)
        .group_by(column)
    )
    rows = (await session.exec(query)).all()
    return {key: Load(running=int(count or 0), last_start=last) for key, count, last in rows}


async def fair_queue(
    session: AsyncSession, *, now: datetime | None = None, limit: int | None = None
) -> list[Waiting]:
    """Every queued job in the order fair share would start them."""
    now = now or utcnow()
    queued = await waiting(session)
    return fair_order(queued, await loads_of(session, queued, now=now), now=now, limit=limit)


async def claim_fairest(
    session: AsyncSession, turns: int, *, now: datetime | None = None, **values: Any
) -> list[Claimed]:
    """Claim up to `turns` queued jobs, fairest first; `values` are more columns to set on
    each claimed row (a worker's name and lease). Fewer come back when fewer wait."""
    claimed: list[str] = []
    for _ in range(CLAIM_ROUNDS):
        wanted = turns - len(claimed)
        if wanted <= 0:
            break
        order = await fair_queue(session, now=now, limit=wanted)
        if not order:
            break
        claimed += await _claim(session, [job.job_id for job in order], values)
    return await _with_authors(session, claimed)


async def _claim(session: AsyncSession, job_ids: list[str], values: dict[str, Any]) -> list[str]:
    now = utcnow()
    result = await session.exec(
        update(JOBS)
        .where(JOBS.c.id.in_(job_ids), JOBS.c.state == JobState.QUEUED)
        .values(
            state=JobState.RUNNING,
            attempts=JOBS.c.attempts + 1,
            started_at=now,
            updated_at=now,
            **values,
        )
        .returning(JOBS.c.id)
    )
    won = {row[0] for row in result.all()}
    # Keep the fair order, not the database's.
    return [job_id for job_id in job_ids if job_id in won]


async def take_over(session: AsyncSession, job_ids: list[str], **values: Any) -> list[Claimed]:
    """Claim those of `job_ids` that are running under a lapsed lease (storage.leases): a lost
    worker's job, enqueued again for another worker. Queued ones are left to fair share."""
    now = utcnow()
    result = await session.exec(
        update(JOBS)
        .where(
            JOBS.c.id.in_(list(dict.fromkeys(job_ids))),
            JOBS.c.state == JobState.RUNNING,
            # The lease ran out (or never was: a job left by a process from before leases).
            or_(JOBS.c.lease_until.is_(None), JOBS.c.lease_until < now),
        )
        .values(attempts=JOBS.c.attempts + 1, started_at=now, updated_at=now, **values)
        .returning(JOBS.c.id)
    )
    return await _with_authors(session, [row[0] for row in result.all()])


async def _with_authors(session: AsyncSession, job_ids: list[str]) -> list[Claimed]:
    if not job_ids:
        return []
    query = select(Job, User).join(User, col(User.id) == col(Job.author_id))
    rows = (await session.exec(query.where(col(Job.id).in_(job_ids)))).all()
    found = {job.id: Claimed(job=job, author=user.handle) for job, user in rows}
    return [found[job_id] for job_id in job_ids if job_id in found]

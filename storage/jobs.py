"""Jobs and their state machine: queued → running → done | failed | cancelled.

Every transition is one conditional UPDATE, so two workers (or a worker and a cancel) racing on
the same job cannot both win.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import InvalidTransition, NotFound
from storage.leases import claimable
from storage.models import (
    ACTIVE,
    FINISHED,
    IN_FLIGHT,
    ApprovalState,
    Chat,
    Clip,
    Job,
    JobCameo,
    JobState,
    User,
    utcnow,
)

# Which states each state may move to. A running job may be started again: arq reruns a job
# whose worker died, and the rerun must be able to claim it.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.AWAITING_CONSENT: frozenset({JobState.QUEUED, JobState.FAILED, JobState.CANCELLED}),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset(
        {JobState.RUNNING, JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.BLOCKED}
    ),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.BLOCKED: frozenset(),
}


JOBS = Job.__table__  # type: ignore[attr-defined]
CLIPS = Clip.__table__  # type: ignore[attr-defined]


def sources_of(target: JobState) -> list[JobState]:
    return [state for state, targets in TRANSITIONS.items() if target in targets]


async def get_job(session: AsyncSession, job_id: str) -> Job:
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


async def transition(session: AsyncSession, job_id: str, target: JobState, **values: Any) -> bool:
    """Move a job to `target` if its current state allows it; False if it did not (someone else
    moved it first, or it is already finished). Raises InvalidTransition for a target no state
    reaches and NotFound for an unknown job."""
    sources = sources_of(target)
    if not sources:
        raise InvalidTransition(f"no state moves to {target}")
    # The plain table, not the ORM entity: no ORM objects need keeping in step, and the ORM's
    # bulk-update machinery is most of the cost of a one-row UPDATE.
    table = JOBS
    now = utcnow()
    values = {"state": target, "updated_at": now, **values}
    if target is JobState.RUNNING:
        values.setdefault("started_at", now)
        values["attempts"] = table.c.attempts + 1
    if target in FINISHED:
        values.setdefault("finished_at", now)
    statement = (
        update(table).where(table.c.id == job_id, table.c.state.in_(sources)).values(**values)
    )
    result = await session.exec(statement)
    if result.rowcount == 0:
        await get_job(session, job_id)  # NotFound if it never existed
        return False
    return True


async def state_of(session: AsyncSession, job_id: str) -> JobState | None:
    """The job's state now (None for an unknown job): one indexed read, cheap enough to poll."""
    state = (await session.exec(select(Job.state).where(Job.id == job_id))).first()
    return JobState(state) if state is not None else None


def new_job_id() -> str:
    return uuid.uuid4().hex


async def route(session: AsyncSession, job_id: str) -> tuple[Job, Chat, User]:
    """A job with the chat that asked for it and its author: where its replies go."""
    query = (
        select(Job, Chat, User)
        .join(Chat, col(Chat.id) == col(Job.chat_id))
        .join(User, col(User.id) == col(Job.author_id))
        .where(Job.id == job_id)
    )
    found = (await session.exec(query)).first()
    if found is None:
        raise NotFound(f"job {job_id} does not exist")
    return found


async def in_flight_ids(session: AsyncSession) -> list[str]:
    """Jobs queued or running, oldest first: what a restarted bot hands to the queue again."""
    query = select(Job.id).where(col(Job.state).in_(IN_FLIGHT)).order_by(col(Job.created_at))
    return list((await session.exec(query)).all())


async def queued_ids(session: AsyncSession, *, before: datetime | None = None) -> list[str]:
    """Jobs waiting for a worker, oldest first; only those recorded before `before`, if given."""
    query = select(Job.id).where(Job.state == JobState.QUEUED).order_by(col(Job.created_at))
    if before is not None:
        query = query.where(col(Job.created_at) < before)
    return list((await session.exec(query)).all())


async def in_flight_by_author(session: AsyncSession, author_ids: list[int]) -> dict[int, int]:
    query = (
        select(Job.author_id, func.count())
        .where(col(Job.author_id).in_(author_ids), col(Job.state).in_(ACTIVE))
        .group_by(col(Job.author_id))
    )
    return {author: int(count) for author, count in (await session.exec(query)).all()}


async def count_all_in_flight(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Job).where(col(Job.state).in_(IN_FLIGHT))
    return int((await session.exec(query)).one())


@dataclass(frozen=True)
class NewJob:
    """A job about to be recorded; storage fills in the state and the timestamps."""

    prompt: str
    seed: int
    engine: str
    author_id: int
    chat_id: int
    # None leaves each to the worker's engine (a model family's own size, rate and length).
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    # The chat platform's upload limit, if it has one: the worker's first encode fits it.
    target_bytes: int | None = None
    dialogue: list[dict[str, Any]] = field(default_factory=list)
    parent_clip_id: int | None = None
    request_message_id: str | None = None
    # AWAITING_CONSENT when a cameo owner must answer first.
    state: JobState = JobState.QUEUED
    # The cameos the clip uses and each one's consent as decided when the command came in.
    cameos: list[tuple[int, ApprovalState]] = field(default_factory=list)
    # The chat policy's nudity threshold for the worker's output check (None: its default).
    nudity_threshold: float | None = None
    id: str = field(default_factory=new_job_id)


async def insert_jobs(session: AsyncSession, jobs: list[NewJob]) -> None:
    """Insert many jobs in one statement (a burst of commands is written together)."""
    if not jobs:
        return
    now = utcnow()
    rows = [
        # vars(), not asdict(): asdict deep-copies every row, a third of this call's time.
        {**vars(job), "attempts": 0, "created_at": now, "updated_at": now}
        for job in jobs
    ]
    for row in rows:
        del row["cameos"]
    await session.exec(insert(Job), params=rows)
    uses = [
        {"job_id": job.id, "cameo_id": cameo_id, "state": state, "created_at": now}
        for job in jobs
        for cameo_id, state in job.cameos
    ]
    if uses:
        await session.exec(insert(JobCameo), params=uses)


async def set_status_messages(session: AsyncSession, statuses: dict[str, str]) -> None:
    """Record the status message of many jobs (job id → platform message id) at once."""
    if not statuses:
        return
    table = JOBS
    statement = (
        update(table)
        .where(table.c.id == bindparam("job_id"))
        .values(status_message_id=bindparam("message_id"))
    )
    await session.exec(
        statement, params=[{"job_id": j, "message_id": m} for j, m in statuses.items()]
    )


def clip_of(
    job: Job,
    *,
    blob_key: str,
    size_bytes: int,
    width: int,
    height: int,
    duration_s: float,
    engine: str | None = None,
) -> Clip:
    """The clip row a finished job leaves: lineage and request from the job, the measurements
    from the encoded file (the job may have left them to the engine)."""
    return Clip(
        job_id=job.id,
        prompt=job.prompt,
        seed=job.seed,
        engine=engine or job.engine,
        duration_s=duration_s,
        width=width,
        height=height,
        size_bytes=size_bytes,
        author_id=job.author_id,
        chat_id=job.chat_id,
        parent_id=job.parent_clip_id,
        blob_key=blob_key,
    )


@dataclass(frozen=True)
class Claimed:
    """A job a worker has taken, with the name its watermark shows."""

    job: Job
    author: str


async def claim_many(
    session: AsyncSession,
    job_ids: list[str],
    *,
    worker: str | None = None,
    lease_until: datetime | None = None,
) -> dict[str, Claimed]:
    """Claim many jobs in two statements for `worker`, leased until `lease_until`; the ones
    that could not be claimed (finished, or running under a live lease) are left out."""
    now = utcnow()
    claimed = await session.exec(
        update(JOBS)
        .where(JOBS.c.id.in_(list(dict.fromkeys(job_ids))), claimable(now))
        .values(
            state=JobState.RUNNING,
            attempts=JOBS.c.attempts + 1,
            started_at=now,
            updated_at=now,
            worker=worker,
            lease_until=lease_until,
        )
        .returning(JOBS.c.id)
    )
    ids = [row[0] for row in claimed.all()]
    if not ids:
        return {}
    query = select(Job, User).join(User, col(User.id) == col(Job.author_id))
    rows = (await session.exec(query.where(col(Job.id).in_(ids)))).all()
    return {job.id: Claimed(job=job, author=user.handle) for job, user in rows}


async def existing_ids(session: AsyncSession, job_ids: list[str]) -> set[str]:
    return set((await session.exec(select(Job.id).where(col(Job.id).in_(job_ids)))).all())


async def clips_for_jobs(session: AsyncSession, job_ids: list[str]) -> dict[str, Clip]:
    rows = (await session.exec(select(Clip).where(col(Clip.job_id).in_(job_ids)))).all()
    return {clip.job_id: clip for clip in rows}


async def store_clips(
    session: AsyncSession, clips: list[Clip], *, worker: str | None = None
) -> list[Clip | None]:
    """Mark finished jobs done and insert their clips, all in one go; returns the clips with
    their ids, or None for a job that is no longer running (cancelled while it rendered: its
    clip is not kept; likewise a job another `worker` took over after this one's lease ran out).
    Raises IntegrityError (nothing written) if any job has a clip already."""
    now = utcnow()
    job_ids = [clip.job_id for clip in clips]
    held = [JOBS.c.worker == worker] if worker is not None else []
    moved = await session.exec(
        update(JOBS)
        .where(JOBS.c.id.in_(job_ids), JOBS.c.state.in_(sources_of(JobState.DONE)), *held)
        .values(state=JobState.DONE, updated_at=now, finished_at=now)
        .returning(JOBS.c.id)
    )
    done = {row[0] for row in moved.all()}
    rows = [clip.model_dump(exclude={"id"}) for clip in clips if clip.job_id in done]
    if rows:
        await session.exec(insert(CLIPS), params=rows)
    stored = await clips_for_jobs(session, list(done))
    return [stored.get(job_id) for job_id in job_ids]


async def queued_with_chats(session: AsyncSession, job_ids: list[str]) -> list[tuple[Job, Chat]]:
    """Those of these jobs still queued, each with its chat."""
    query = (
        select(Job, Chat)
        .join(Chat, col(Chat.id) == col(Job.chat_id))
        .where(col(Job.id).in_(job_ids), Job.state == JobState.QUEUED)
    )
    return list((await session.exec(query)).all())


async def in_flight_in_chat(
    session: AsyncSession, platform: str, platform_chat_id: str
) -> list[tuple[Job, User]]:
    """A chat's jobs rendering or queued, each with its author."""
    query = (
        select(Job, User)
        .join(Chat, col(Chat.id) == col(Job.chat_id))
        .join(User, col(User.id) == col(Job.author_id))
        .where(
            Chat.platform == platform,
            Chat.platform_chat_id == platform_chat_id,
            col(Job.state).in_([JobState.RUNNING, JobState.QUEUED]),
        )
    )
    return list((await session.exec(query)).all())

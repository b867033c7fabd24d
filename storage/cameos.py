"""Cameo rows: enrollments, the cameos themselves, standing grants and per-job consent.

Plain queries; who may do what is decided in `bot.consent`, and these functions only record it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.models import (
    ACTIVE,
    CONSENTED,
    ApprovalState,
    Cameo,
    CameoEnrollment,
    CameoGrant,
    Chat,
    Clip,
    Job,
    JobCameo,
    JobState,
    User,
    utcnow,
)


@dataclass(frozen=True)
class OwnedCameo:
    cameo: Cameo
    owner: User


# Enrollment -----------------------------------------------------------------------------------


async def open_enrollment(session: AsyncSession, user_id: int, code: str) -> CameoEnrollment:
    """Start (or restart, with a new code) a person's enrollment."""
    await session.exec(delete(CameoEnrollment).where(col(CameoEnrollment.user_id) == user_id))
    enrollment = CameoEnrollment(user_id=user_id, code=code)
    session.add(enrollment)
    await session.flush()
    return enrollment


async def enrollment_of(session: AsyncSession, user_id: int) -> CameoEnrollment | None:
    query = select(CameoEnrollment).where(CameoEnrollment.user_id == user_id)
    return (await session.exec(query)).first()


async def close_enrollment(session: AsyncSession, user_id: int) -> None:
    await session.exec(delete(CameoEnrollment).where(col(CameoEnrollment.user_id) == user_id))


# Cameos ---------------------------------------------------------------------------------------


async def cameo_of(session: AsyncSession, owner_id: int) -> Cameo | None:
    return (await session.exec(select(Cameo).where(Cameo.owner_id == owner_id))).first()


async def other_embeddings(
    session: AsyncSession, owner_id: int | None, face_model: str
) -> list[tuple[int, list[float]]]:
    """(cameo id, embedding) of everyone else's cameos made by the same face model."""
    query = select(Cameo.id, Cameo.embedding).where(Cameo.face_model == face_model)
    if owner_id is not None:
        query = query.where(Cameo.owner_id != owner_id)
    return [
        (cameo_id, list(vector)) for cameo_id, vector in (await session.exec(query)) if cameo_id
    ]


async def all_embeddings(session: AsyncSession) -> list[tuple[int, int, str, list[float]]]:
    """(cameo id, owner id, face model, embedding) of every cameo: the output check's list."""
    query = select(Cameo.id, Cameo.owner_id, Cameo.face_model, Cameo.embedding)
    return [
        (cameo_id, owner_id, model, list(vector))
        for cameo_id, owner_id, model, vector in await session.exec(query)
        if cameo_id is not None
    ]


async def find_cameos(
    session: AsyncSession, platform: str, user_ids: list[str], usernames: list[str]
) -> list[OwnedCameo]:
    """Cameos whose owners are these platform users or have these usernames (any case)."""
    if not user_ids and not usernames:
        return []
    lowered = [name.lower() for name in usernames]
    who = col(User.platform_user_id).in_(user_ids) | func.lower(col(User.username)).in_(lowered)
    query = (
        select(Cameo, User)
        .join(User, col(User.id) == col(Cameo.owner_id))
        .where(User.platform == platform, who)
    )
    return [OwnedCameo(cameo, owner) for cameo, owner in await session.exec(query)]


async def suggest(session: AsyncSession, platform: str, typed: str, limit: int) -> list[User]:
    """Owners of cameos on a platform whose name or username starts with `typed`."""
    prefix = f"{typed.lower().lstrip('@')}%"
    query = (
        select(User)
        .join(Cameo, col(Cameo.owner_id) == col(User.id))
        .where(
            User.platform == platform,
            func.lower(col(User.username)).like(prefix)
            | func.lower(col(User.display_name)).like(prefix),
        )
        .order_by(col(User.display_name))
        .limit(limit)
    )
    return list(await session.exec(query))


async def delete_cameo(session: AsyncSession, cameo: Cameo) -> None:
    """The cameo, its grants and its consent records; the caller deletes the crops' files."""
    await session.exec(delete(CameoGrant).where(col(CameoGrant.cameo_id) == cameo.id))
    await session.exec(delete(JobCameo).where(col(JobCameo.cameo_id) == cameo.id))
    await session.delete(cameo)


# Grants ---------------------------------------------------------------------------------------


async def grant(session: AsyncSession, cameo_id: int, grantee_id: int) -> None:
    exists = await session.exec(
        select(CameoGrant.id).where(
            CameoGrant.cameo_id == cameo_id, CameoGrant.grantee_id == grantee_id
        )
    )
    if exists.first() is None:
        session.add(CameoGrant(cameo_id=cameo_id, grantee_id=grantee_id))
        await session.flush()


async def revoke(session: AsyncSession, cameo_id: int, grantee_id: int) -> bool:
    result = await session.exec(
        delete(CameoGrant).where(
            col(CameoGrant.cameo_id) == cameo_id, col(CameoGrant.grantee_id) == grantee_id
        )
    )
    return bool(result.rowcount)


async def granted_users(session: AsyncSession, cameo_id: int) -> list[User]:
    query = (
        select(User)
        .join(CameoGrant, col(CameoGrant.grantee_id) == col(User.id))
        .where(CameoGrant.cameo_id == cameo_id)
    )
    return list(await session.exec(query))


# Per-job consent ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    """One cameo in one job, with what is needed to re-check or show it."""

    approval: JobCameo
    cameo: Cameo
    owner: User


def _uses() -> Select[JobCameo, Cameo, User]:
    """Consent rows with their cameo and its owner."""
    return (
        select(JobCameo, Cameo, User)
        .join(Cameo, col(Cameo.id) == col(JobCameo.cameo_id))
        .join(User, col(User.id) == col(Cameo.owner_id))
    )


async def uses_of_jobs(session: AsyncSession, job_ids: list[str]) -> dict[str, list[Use]]:
    query = _uses().where(col(JobCameo.job_id).in_(job_ids)).order_by(col(JobCameo.id))
    uses: dict[str, list[Use]] = {job_id: [] for job_id in job_ids}
    for approval, cameo, owner in await session.exec(query):
        uses[approval.job_id].append(Use(approval, cameo, owner))
    return uses


async def use_by_id(session: AsyncSession, approval_id: int) -> Use | None:
    query = _uses().where(JobCameo.id == approval_id)
    row = (await session.exec(query)).first()
    return Use(*row) if row is not None else None


async def decide_use(
    session: AsyncSession, approval_id: int, state: ApprovalState, *, only_from: ApprovalState
) -> bool:
    """Record an answer if the use is still in `only_from`; False if it was answered already."""
    result = await session.exec(
        update(JobCameo)
        .where(col(JobCameo.id) == approval_id, col(JobCameo.state) == only_from)
        .values(state=state, decided_at=utcnow())
    )
    return bool(result.rowcount)


async def set_use_states(
    session: AsyncSession, approval_ids: list[int], state: ApprovalState
) -> None:
    if approval_ids:
        await session.exec(
            update(JobCameo)
            .where(col(JobCameo.id).in_(approval_ids))
            .values(state=state, decided_at=utcnow())
        )


async def remember_request_message(
    session: AsyncSession, approval_id: int, chat_id: str, message_id: str
) -> None:
    await session.exec(
        update(JobCameo)
        .where(col(JobCameo.id) == approval_id)
        .values(dm_chat_id=chat_id, dm_message_id=message_id)
    )


async def record_similarities(session: AsyncSession, job_id: str, found: dict[int, float]) -> None:
    for cameo_id, similarity in found.items():
        await session.exec(
            update(JobCameo)
            .where(col(JobCameo.job_id) == job_id, col(JobCameo.cameo_id) == cameo_id)
            .values(similarity=similarity)
        )


async def consented_cameo_ids(session: AsyncSession, job_id: str) -> set[int] | None:
    """The cameos a job may show, or None when any of its cameos lacks consent now (denied,
    expired, revoked or still pending): the worker's check before it starts rendering."""
    states = (
        await session.exec(
            select(JobCameo.cameo_id, JobCameo.state).where(JobCameo.job_id == job_id)
        )
    ).all()
    if any(state not in CONSENTED for _, state in states):
        return None
    return {cameo_id for cameo_id, _ in states}


async def cameos_with_owners(
    session: AsyncSession, cameo_ids: set[int]
) -> list[tuple[Cameo, User]]:
    """These cameos with their owners, by cameo id; a deleted cameo is simply missing."""
    rows = await session.exec(
        select(Cameo, User)
        .join(User, col(User.id) == col(Cameo.owner_id))
        .where(col(Cameo.id).in_(cameo_ids))
        .order_by(col(Cameo.id))
    )
    return list(rows)


async def expired_waits(session: AsyncSession, before: datetime) -> list[str]:
    """Jobs still waiting for an owner's answer that were asked before `before`."""
    query = select(Job.id).where(
        Job.state == JobState.AWAITING_CONSENT, col(Job.created_at) < before
    )
    return list(await session.exec(query))


async def active_uses_of_cameo(session: AsyncSession, cameo_id: int) -> list[tuple[JobCameo, Job]]:
    """Uses of a cameo by jobs not finished yet: what a change of the owner's mind reaches."""
    query = (
        select(JobCameo, Job)
        .join(Job, col(Job.id) == col(JobCameo.job_id))
        .where(
            JobCameo.cameo_id == cameo_id,
            col(Job.state).in_(ACTIVE),
        )
    )
    return list(await session.exec(query))


@dataclass(frozen=True)
class Appearance:
    clip: Clip
    chat: Chat
    author: User
    similarity: float | None


async def clips_with_cameo(session: AsyncSession, cameo_id: int) -> list[Appearance]:
    """Every clip, not deleted, that a cameo appears in; newest first."""
    query = (
        select(Clip, Chat, User, JobCameo.similarity)
        .join(JobCameo, col(JobCameo.job_id) == col(Clip.job_id))
        .join(Chat, col(Chat.id) == col(Clip.chat_id))
        .join(User, col(User.id) == col(Clip.author_id))
        .where(JobCameo.cameo_id == cameo_id, col(Clip.deleted).is_(False))
        .order_by(col(Clip.id).desc())
    )
    return [Appearance(*row) for row in await session.exec(query)]


async def remixes_of(session: AsyncSession, clip_ids: list[int]) -> list[int]:
    """Every clip descended from these (remixes of remixes too), not deleted."""
    found: list[int] = []
    frontier = list(clip_ids)
    while frontier:
        children = (
            await session.exec(
                select(Clip.id).where(
                    col(Clip.parent_id).in_(frontier), col(Clip.deleted).is_(False)
                )
            )
        ).all()
        frontier = [child for child in children if child is not None and child not in found]
        found.extend(frontier)
    return found


async def cameo_owners_of_clip(session: AsyncSession, clip_id: int) -> list[User]:
    query = (
        select(User)
        .join(Cameo, col(Cameo.owner_id) == col(User.id))
        .join(JobCameo, col(JobCameo.cameo_id) == col(Cameo.id))
        .join(Clip, col(Clip.job_id) == col(JobCameo.job_id))
        .where(Clip.id == clip_id)
    )
    return list(await session.exec(query))

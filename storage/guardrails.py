"""Guardrail rows: each chat's policy and budgets, bans, the audit log, and the counts that
daily budgets and the admin commands read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, tuple_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ACTIVE,
    AuditEntry,
    Ban,
    Chat,
    ChatPolicy,
    Clip,
    Job,
    JobState,
    User,
    utcnow,
)

# Jobs that do not count against a budget: nothing was made (cancelled, or the queue failed).
NOT_SPENT = (JobState.CANCELLED, JobState.FAILED)


async def policy_of(session: AsyncSession, chat_id: int) -> ChatPolicy | None:
    found = await session.exec(select(ChatPolicy).where(ChatPolicy.chat_id == chat_id))
    return found.first()


async def policies_of(session: AsyncSession, chat_ids: list[int]) -> dict[int, ChatPolicy]:
    rows = await session.exec(select(ChatPolicy).where(col(ChatPolicy.chat_id).in_(chat_ids)))
    return {row.chat_id: row for row in rows.all()}


async def user_ids_of(
    session: AsyncSession, people: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Row ids of the people (platform, platform user id) that have one; nothing is created."""
    if not people:
        return {}
    query = select(User.id, User.platform, User.platform_user_id).where(
        tuple_(col(User.platform), col(User.platform_user_id)).in_(people)
    )
    return {(p, key): row_id for row_id, p, key in (await session.exec(query)).all() if row_id}


async def chat_ids_of(
    session: AsyncSession, chats: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Row ids of the chats (platform, platform chat id) that have one; nothing is created."""
    if not chats:
        return {}
    query = select(Chat.id, Chat.platform, Chat.platform_chat_id).where(
        tuple_(col(Chat.platform), col(Chat.platform_chat_id)).in_(chats)
    )
    return {(p, key): row_id for row_id, p, key in (await session.exec(query)).all() if row_id}


async def banned_pairs(session: AsyncSession, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (chat id, user id) pairs are banned."""
    if not pairs:
        return set()
    query = select(Ban.chat_id, Ban.user_id).where(
        tuple_(col(Ban.chat_id), col(Ban.user_id)).in_(pairs)
    )
    return {(chat, user) for chat, user in (await session.exec(query)).all()}


async def save_policy(
    session: AsyncSession,
    chat_id: int,
    *,
    default_preset: str,
    by: int | None,
    preset: str | None = None,
    limits: tuple[int, int] | None = None,
) -> ChatPolicy:
    """Set a chat's preset and/or its daily budgets (per person, per chat), creating its row."""
    row = await policy_of(session, chat_id) or ChatPolicy(chat_id=chat_id, preset=default_preset)
    if preset is not None:
        row.preset = preset
    if limits is not None:
        row.per_person_daily, row.per_chat_daily = limits
    row.updated_by, row.updated_at = by, utcnow()
    session.add(row)
    await session.flush()
    return row


async def ban(session: AsyncSession, chat_id: int, user_id: int, *, by: int | None) -> bool:
    """Ban a person in a chat; False if they already were."""
    if await is_banned(session, chat_id, user_id):
        return False
    try:
        async with session.begin_nested():
            session.add(Ban(chat_id=chat_id, user_id=user_id, banned_by=by))
            await session.flush()
    except IntegrityError:  # banned by another admin in the same instant
        return False
    return True


async def unban(session: AsyncSession, chat_id: int, user_id: int) -> bool:
    """Lift a ban; False if there was none."""
    statement = delete(Ban).where(col(Ban.chat_id) == chat_id, col(Ban.user_id) == user_id)
    result = await session.exec(statement)
    return bool(result.rowcount)


async def is_banned(session: AsyncSession, chat_id: int, user_id: int) -> bool:
    query = select(Ban.id).where(Ban.chat_id == chat_id, Ban.user_id == user_id)
    return (await session.exec(query)).first() is not None


async def audit(
    session: AsyncSession,
    *,
    chat_id: int,
    actor_id: int | None,
    action: str,
    category: str = "",
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(
            chat_id=chat_id,
            actor_id=actor_id,
            action=action,
            category=category,
            detail=detail[:300],
        )
    )
    await session.flush()


@dataclass(frozen=True)
class Logged:
    entry: AuditEntry
    actor: str


async def recent(session: AsyncSession, chat_id: int, limit: int) -> list[Logged]:
    """A chat's latest audit entries, newest first, with who did it."""
    query = (
        select(AuditEntry, User)
        .join(User, col(User.id) == col(AuditEntry.actor_id), isouter=True)
        .where(AuditEntry.chat_id == chat_id)
        .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    rows = (await session.exec(query)).all()
    return [Logged(entry, user.handle if user else "someone") for entry, user in rows]


async def refusal_counts(session: AsyncSession, chat_id: int, since: datetime) -> dict[str, int]:
    """Refusals in a chat since `since`, by category."""
    query = (
        select(AuditEntry.category, func.count())
        .where(
            AuditEntry.chat_id == chat_id,
            AuditEntry.action == "refused",
            col(AuditEntry.created_at) >= since,
        )
        .group_by(col(AuditEntry.category))
    )
    return {category: int(count) for category, count in (await session.exec(query)).all()}


async def acted_since(
    session: AsyncSession, *, chat_id: int, actor_id: int, action: str, since: datetime
) -> bool:
    """Whether this person did `action` in this chat since `since` (a verified admin's act)."""
    query = select(AuditEntry.id).where(
        AuditEntry.chat_id == chat_id,
        AuditEntry.actor_id == actor_id,
        AuditEntry.action == action,
        col(AuditEntry.created_at) >= since,
    )
    return (await session.exec(query)).first() is not None


async def spent_since(
    session: AsyncSession, since: datetime, *, author_ids: list[int], chat_ids: list[int]
) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """Jobs recorded since `since` that count against the budgets: per (author, chat), and per
    chat."""
    spent = col(Job.state).not_in(NOT_SPENT)
    recent_jobs = col(Job.created_at) >= since
    by_author = (
        select(Job.author_id, Job.chat_id, func.count())
        .where(recent_jobs, spent, col(Job.author_id).in_(author_ids))
        .where(col(Job.chat_id).in_(chat_ids))
        .group_by(col(Job.author_id), col(Job.chat_id))
    )
    authors = {
        (author, chat): int(count) for author, chat, count in (await session.exec(by_author)).all()
    }
    by_chat = (
        select(Job.chat_id, func.count())
        .where(recent_jobs, spent, col(Job.chat_id).in_(chat_ids))
        .group_by(col(Job.chat_id))
    )
    chats = {chat: int(count) for chat, count in (await session.exec(by_chat)).all()}
    return authors, chats


async def waiting_and_running(session: AsyncSession, chat_id: int) -> list[tuple[Job, User]]:
    """A chat's jobs that are waiting (for the queue or a cameo owner) or rendering."""
    query = (
        select(Job, User)
        .join(User, col(User.id) == col(Job.author_id))
        .where(Job.chat_id == chat_id, col(Job.state).in_(ACTIVE))
        .order_by(col(Job.created_at))
    )
    return list((await session.exec(query)).all())


async def clips_by(session: AsyncSession, *, chat_id: int, author_id: int) -> list[int]:
    """Ids of a person's clips in a chat that are still up."""
    query = select(Clip.id).where(
        Clip.chat_id == chat_id, Clip.author_id == author_id, col(Clip.deleted).is_(False)
    )
    return [clip_id for clip_id in (await session.exec(query)).all() if clip_id is not None]


async def find_user(session: AsyncSession, platform: str, name: str) -> User | None:
    """A person of this platform by @username (or, without one, display name), any case."""
    lowered = name.lstrip("@").lower()
    query = select(User).where(
        User.platform == platform,
        or_(
            func.lower(col(User.username)) == lowered,
            func.lower(col(User.display_name)) == lowered,
        ),
    )
    return (await session.exec(query.order_by(col(User.id)))).first()

"""The feed's queries: reactions recorded per person, and a chat's clips with their counts.

Ranking is not done here (see `bot.feed.rank`): these return rows with the numbers it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    CONSENTED,
    Cameo,
    Chat,
    Clip,
    Delivery,
    DeliveryState,
    JobCameo,
    Reaction,
    User,
)

# A chat's feed reads at most this many of its newest clips; older ones fall off the bottom.
MAX_ROWS = 1000


@dataclass(frozen=True)
class FeedRow:
    """One clip of a chat's feed with the counts ranking and showing it need."""

    clip_id: int
    prompt: str
    author: str
    author_id: int
    # The author's id on the platform (what `/feed @person` and the feed page filter by).
    author_user_id: str
    created_at: datetime
    parent_id: int | None
    reactions: int
    remixes: int
    blob_key: str
    width: int
    height: int
    duration_s: float
    # The message that shows the clip in its chat, where it was posted.
    message_id: str | None = None
    cameos: tuple[str, ...] = ()


# Reactions -------------------------------------------------------------------------------------


async def react(
    session: AsyncSession, *, clip_id: int, user_id: int, added: list[str], removed: list[str]
) -> None:
    """Record one person's reaction change: emoji added and removed (a repeat is a no-op)."""
    if removed:
        await session.exec(
            delete(Reaction).where(
                col(Reaction.clip_id) == clip_id,
                col(Reaction.user_id) == user_id,
                col(Reaction.emoji).in_(removed),
            )
        )
    held = set(
        (
            await session.exec(
                select(Reaction.emoji).where(
                    Reaction.clip_id == clip_id, Reaction.user_id == user_id
                )
            )
        ).all()
    )
    for emoji in dict.fromkeys(added):
        if emoji not in held:
            session.add(Reaction(clip_id=clip_id, user_id=user_id, emoji=emoji))
    await session.flush()


async def toggle(session: AsyncSession, *, clip_id: int, user_id: int, emoji: str) -> bool:
    """The ❤️ button: add the person's reaction, or take it back. True if it is now on."""
    found = (
        await session.exec(
            select(Reaction).where(
                Reaction.clip_id == clip_id, Reaction.user_id == user_id, Reaction.emoji == emoji
            )
        )
    ).first()
    if found is not None:
        await session.delete(found)
        await session.flush()
        return False
    session.add(Reaction(clip_id=clip_id, user_id=user_id, emoji=emoji))
    await session.flush()
    return True


async def set_anonymous_counts(session: AsyncSession, clip_id: int, counts: dict[str, int]) -> None:
    """Replace a clip's anonymous counts (Telegram reports the totals, not the changes)."""
    await session.exec(
        delete(Reaction).where(col(Reaction.clip_id) == clip_id, col(Reaction.user_id).is_(None))
    )
    for emoji, count in counts.items():
        if count > 0:
            session.add(Reaction(clip_id=clip_id, user_id=None, emoji=emoji, count=count))
    await session.flush()


async def user_by_platform_id(session: AsyncSession, platform: str, user_id: str) -> User | None:
    query = select(User).where(User.platform == platform, User.platform_user_id == user_id)
    return (await session.exec(query)).first()


async def reaction_total(session: AsyncSession, clip_id: int) -> int:
    total = await session.exec(
        select(func.coalesce(func.sum(Reaction.count), 0)).where(Reaction.clip_id == clip_id)
    )
    return int(total.one())


# A chat's clips ---------------------------------------------------------------------------------


async def chat_row(session: AsyncSession, platform: str, platform_chat_id: str) -> Chat | None:
    query = select(Chat).where(Chat.platform == platform, Chat.platform_chat_id == platform_chat_id)
    return (await session.exec(query)).first()


async def chat_clips(
    session: AsyncSession,
    platform: str,
    platform_chat_id: str,
    *,
    since: datetime | None = None,
    limit: int = MAX_ROWS,
) -> list[FeedRow]:
    """The chat's clips that are not deleted, newest first, with their reaction and remix
    counts, the message showing each, and the handles of the cameos in it."""
    chat = await chat_row(session, platform, platform_chat_id)
    if chat is None:
        return []
    reactions = _reaction_counts()
    remixes = _remix_counts()
    shown = _shown_messages(platform, platform_chat_id)
    # Five columns: past sqlmodel's typed overloads of select(), so SQLAlchemy's own (untyped
    # for sqlmodel's exec()).
    query: Any = (
        sa_select(
            Clip,
            User,
            func.coalesce(reactions.c.n, 0),
            func.coalesce(remixes.c.n, 0),
            shown.c.message_id,
        )
        .join(User, col(User.id) == col(Clip.author_id))
        .outerjoin(reactions, reactions.c.clip_id == col(Clip.id))
        .outerjoin(remixes, remixes.c.parent_id == col(Clip.id))
        .outerjoin(shown, shown.c.clip_id == col(Clip.id))
        .where(col(Clip.chat_id) == chat.id, col(Clip.deleted).is_(False))
        .order_by(col(Clip.id).desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(col(Clip.created_at) >= since)
    rows = (await session.exec(query)).all()
    cameos = await _cameos_of(session, [clip.job_id for clip, *_ in rows])
    return [_feed_row(*row, cameos=cameos.get(row[0].job_id, ())) for row in rows]


def _reaction_counts() -> Subquery:
    """Per clip: its reactions, all emoji and people together."""
    return (
        select(Reaction.clip_id, func.sum(Reaction.count).label("n"))
        .group_by(col(Reaction.clip_id))
        .subquery()
    )


def _remix_counts() -> Subquery:
    """Per clip: how many remixes of it are not deleted."""
    child = Clip.__table__.alias("child")  # type: ignore[attr-defined]
    return (
        select(child.c.parent_id, func.count().label("n"))
        .where(child.c.deleted.is_(False), child.c.parent_id.is_not(None))
        .group_by(child.c.parent_id)
        .subquery()
    )


def _shown_messages(platform: str, platform_chat_id: str) -> Subquery:
    """Per clip: the message that shows it in this chat."""
    return (
        select(Delivery.clip_id, func.max(Delivery.platform_message_id).label("message_id"))
        .where(
            Delivery.platform == platform,
            Delivery.platform_chat_id == platform_chat_id,
            Delivery.state == DeliveryState.SENT,
        )
        .group_by(col(Delivery.clip_id))
        .subquery()
    )


def _feed_row(
    clip: Clip,
    user: User,
    n_reactions: int,
    n_remixes: int,
    message_id: str | None,
    *,
    cameos: tuple[str, ...],
) -> FeedRow:
    return FeedRow(
        clip_id=_id(clip.id),
        prompt=clip.prompt,
        author=user.handle,
        author_id=_id(user.id),
        author_user_id=user.platform_user_id,
        created_at=clip.created_at,
        parent_id=clip.parent_id,
        reactions=int(n_reactions),
        remixes=int(n_remixes),
        blob_key=clip.blob_key,
        width=clip.width,
        height=clip.height,
        duration_s=clip.duration_s,
        message_id=message_id,
        cameos=cameos,
    )


async def _cameos_of(session: AsyncSession, job_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """The handles of the consented cameos in each job."""
    if not job_ids:
        return {}
    query = (
        select(JobCameo.job_id, User)
        .join(Cameo, col(Cameo.id) == col(JobCameo.cameo_id))
        .join(User, col(User.id) == col(Cameo.owner_id))
        .where(col(JobCameo.job_id).in_(job_ids), col(JobCameo.state).in_(CONSENTED))
        .order_by(col(JobCameo.id))
    )
    found: dict[str, tuple[str, ...]] = {}
    for job_id, owner in await session.exec(query):
        found[job_id] = (*found.get(job_id, ()), owner.handle)
    return found


def _id(value: int | None) -> int:
    assert value is not None
    return value

"""Deliveries: which platform message shows which clip. Posting is claim → send → mark sent.

The claim is a row with a unique key (clip, platform, chat), so two consumers of the same event,
or a consumer that sees an event again after a restart, cannot both post. A claim left in SENDING
by an earlier process (it died mid-upload) may be taken over, and the taker knows it: the earlier
upload may have gone through, so it looks for that message where the platform lets it, and
where it cannot, records the delivery as sent-but-unsure (SENT without a message id) and lets
the person ask for it again (`/repost`) rather than risk posting the clip twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Chat, Clip, Delivery, DeliveryState, Job, JobState, utcnow

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Target:
    """One clip in one chat: the unit that is posted at most once."""

    clip_id: int
    platform: str
    platform_chat_id: str


class Claim(enum.Enum):
    # Nobody had claimed it: post it.
    NEW = "new"
    # An earlier process claimed it and stopped before saying how its upload ended.
    TAKEN_OVER = "taken_over"


async def claim(session: AsyncSession, target: Target, *, claimant: str) -> bool:
    """True if the caller should post the clip now."""
    return (await claim_many(session, [target], claimant=claimant))[0]


async def claim_many(session: AsyncSession, targets: list[Target], *, claimant: str) -> list[bool]:
    """Claim many posts in one statement; per target, True if the caller should post it now.
    A target named twice is claimed once (the first)."""
    return [won is not None for won in await claim_outcomes(session, targets, claimant=claimant)]


async def claim_outcomes(
    session: AsyncSession, targets: list[Target], *, claimant: str
) -> list[Claim | None]:
    """Like `claim_many`, saying for each claim won whether it was new or taken over."""
    unique = list(dict.fromkeys(targets))
    now = utcnow()
    rows = [
        {
            "clip_id": t.clip_id,
            "platform": t.platform,
            "platform_chat_id": t.platform_chat_id,
            "state": DeliveryState.SENDING,
            "claimed_by": claimant,
            "created_at": now,
        }
        for t in unique
    ]
    # INSERT ... ON CONFLICT DO NOTHING RETURNING: the rows that came back are the new claims.
    statement = (
        _dialect_insert(session)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["clip_id", "platform", "platform_chat_id"])
        .returning(DELIVERIES.c.clip_id, DELIVERIES.c.platform, DELIVERIES.c.platform_chat_id)
    )
    won = {Target(*row): Claim.NEW for row in (await session.exec(statement)).all()}
    for target in unique:
        if target not in won and await _take_over(session, target, claimant):
            won[target] = Claim.TAKEN_OVER
    return [won.pop(target, None) for target in targets]


async def _take_over(session: AsyncSession, target: Target, claimant: str) -> bool:
    # Taken before: only a SENDING claim of another (earlier) process may be taken over.
    taken_over = await session.exec(
        _where(update(DELIVERIES), target)
        .where(DELIVERIES.c.state == DeliveryState.SENDING, DELIVERIES.c.claimed_by != claimant)
        .values(claimed_by=claimant)
    )
    return bool(taken_over.rowcount)


async def mark_sent(session: AsyncSession, target: Target, *, message_id: str) -> None:
    await mark_sent_many(session, [(target, message_id)])


async def mark_sent_many(session: AsyncSession, sent: list[tuple[Target, str]]) -> None:
    """Record the platform messages that now show claimed clips (one executemany)."""
    statement = (
        update(DELIVERIES)
        .where(
            DELIVERIES.c.clip_id == bindparam("t_clip"),
            DELIVERIES.c.platform == bindparam("t_platform"),
            DELIVERIES.c.platform_chat_id == bindparam("t_chat"),
        )
        .values(
            state=DeliveryState.SENT,
            platform_message_id=bindparam("t_message"),
            sent_at=bindparam("t_at"),
        )
    )
    now = utcnow()
    await session.exec(
        statement,
        params=[
            {
                "t_clip": t.clip_id,
                "t_platform": t.platform,
                "t_chat": t.platform_chat_id,
                "t_message": message_id,
                "t_at": now,
            }
            for t, message_id in sent
        ],
    )


def _dialect_insert(session: AsyncSession) -> Any:
    # ON CONFLICT is spelled the same on both, but lives in each dialect's own insert().
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(DELIVERIES)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(DELIVERIES)


async def unposted(
    session: AsyncSession, *, finished_after: datetime, finished_before: datetime
) -> list[tuple[str, int]]:
    """(job id, clip id) of clips finished in that window that were never claimed for posting
    in their chat: their done event went missing (a Redis that restarted without its data)."""
    query = (
        select(Job.id, Clip.id)
        .join(Clip, col(Clip.job_id) == col(Job.id))
        .join(Chat, col(Chat.id) == col(Job.chat_id))
        .outerjoin(
            Delivery,
            and_(
                col(Delivery.clip_id) == col(Clip.id),
                col(Delivery.platform) == col(Chat.platform),
                col(Delivery.platform_chat_id) == col(Chat.platform_chat_id),
            ),
        )
        .where(
            Job.state == JobState.DONE,
            col(Job.finished_at) > finished_after,
            col(Job.finished_at) < finished_before,
            col(Clip.deleted).is_(False),
            col(Delivery.id).is_(None),
        )
    )
    rows = (await session.exec(query)).all()
    return [(job_id, clip_id) for job_id, clip_id in rows if clip_id is not None]


async def mark_unsure(session: AsyncSession, target: Target) -> None:
    """The clip may or may not be up (an earlier process died mid-upload and the platform
    cannot be searched): SENT without a message, so it is not posted again unasked."""
    await session.exec(
        _where(update(DELIVERIES), target).values(
            state=DeliveryState.SENT, platform_message_id=None, sent_at=utcnow()
        )
    )


async def claim_unsure(session: AsyncSession, target: Target, *, claimant: str) -> bool:
    """Claim an unsure delivery to post it again (someone asked for it: `/repost`)."""
    result = await session.exec(
        _where(update(DELIVERIES), target)
        .where(
            DELIVERIES.c.state == DeliveryState.SENT,
            DELIVERIES.c.platform_message_id.is_(None),
        )
        .values(state=DeliveryState.SENDING, claimed_by=claimant)
    )
    return bool(result.rowcount)


async def release(session: AsyncSession, target: Target) -> None:
    """Give a claim back after a failed upload, so a later attempt may post."""
    delivery = await _find(session, target)
    if delivery is not None and delivery.state is DeliveryState.SENDING:
        await session.delete(delivery)
        await session.flush()


async def sent_count(session: AsyncSession, clip_id: int) -> int:
    rows = await session.exec(
        select(Delivery).where(Delivery.clip_id == clip_id, Delivery.state == DeliveryState.SENT)
    )
    return len(rows.all())


async def clip_at_message(
    session: AsyncSession, *, platform: str, platform_chat_id: str, message_id: str
) -> Clip | None:
    """The clip a platform message shows, if it shows one (a reply to it is a remix)."""
    query = (
        select(Clip)
        .join(Delivery, Delivery.clip_id == Clip.id)  # type: ignore[arg-type]
        .where(
            Delivery.platform == platform,
            Delivery.platform_chat_id == platform_chat_id,
            Delivery.platform_message_id == message_id,
        )
    )
    return (await session.exec(query)).first()


def _where(statement: Any, target: Target) -> Any:
    return statement.where(
        DELIVERIES.c.clip_id == target.clip_id,
        DELIVERIES.c.platform == target.platform,
        DELIVERIES.c.platform_chat_id == target.platform_chat_id,
    )


async def _find(session: AsyncSession, target: Target) -> Delivery | None:
    query = select(Delivery).where(
        Delivery.clip_id == target.clip_id,
        Delivery.platform == target.platform,
        Delivery.platform_chat_id == target.platform_chat_id,
    )
    return (await session.exec(query)).first()


async def messages_of(session: AsyncSession, clip_id: int) -> list[tuple[str, str, str]]:
    """Every platform message that shows a clip: (platform, chat id, message id)."""
    query = select(
        Delivery.platform, Delivery.platform_chat_id, Delivery.platform_message_id
    ).where(Delivery.clip_id == clip_id, Delivery.state == DeliveryState.SENT)
    return [(p, c, m) for p, c, m in (await session.exec(query)).all() if m is not None]

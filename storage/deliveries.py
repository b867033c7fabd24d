"""Deliveries: which platform message shows which clip. Posting is claim → send → mark sent.

The claim is a row with a unique key (clip, platform, chat), so two consumers of the same event,
or a consumer that sees an event again after a restart, cannot both post. A claim left in SENDING
by an earlier process (it died mid-upload) may be taken over: better a rare repeat than a clip
that is never posted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Clip, Delivery, DeliveryState, utcnow


@dataclass(frozen=True)
class Target:
    """One clip in one chat: the unit that is posted at most once."""

    clip_id: int
    platform: str
    platform_chat_id: str


async def claim(session: AsyncSession, target: Target, *, claimant: str) -> bool:
    """True if the caller should post the clip now."""
    existing = await _find(session, target)
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(
                    Delivery(
                        clip_id=target.clip_id,
                        platform=target.platform,
                        platform_chat_id=target.platform_chat_id,
                        claimed_by=claimant,
                    )
                )
                await session.flush()
            return True
        except IntegrityError:
            return False
    if existing.state is DeliveryState.SENDING and existing.claimed_by != claimant:
        existing.claimed_by = claimant
        session.add(existing)
        await session.flush()
        return True
    return False


async def mark_sent(session: AsyncSession, target: Target, *, message_id: str) -> None:
    delivery = await _find(session, target)
    if delivery is None:
        delivery = Delivery(
            clip_id=target.clip_id,
            platform=target.platform,
            platform_chat_id=target.platform_chat_id,
        )
    delivery.state = DeliveryState.SENT
    delivery.platform_message_id = message_id
    delivery.sent_at = utcnow()
    session.add(delivery)
    await session.flush()


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


async def _find(session: AsyncSession, target: Target) -> Delivery | None:
    query = select(Delivery).where(
        Delivery.clip_id == target.clip_id,
        Delivery.platform == target.platform,
        Delivery.platform_chat_id == target.platform_chat_id,
    )
    return (await session.exec(query)).first()

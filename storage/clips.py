"""Clip rows and the files they point at.

Blob keys are content addresses: two clips with the same bytes share one file. So a clip's file
is removed only once no clip still shown needs it; this is the one place that asks.
"""

from __future__ import annotations

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.blobs import Blobs
from storage.db import Database
from storage.models import Chat, Clip


async def blob_in_use(session: AsyncSession, key: str) -> bool:
    """Whether a clip that is not deleted points at `key`."""
    query = select(Clip.id).where(Clip.blob_key == key, col(Clip.deleted).is_(False)).limit(1)
    return (await session.exec(query)).first() is not None


async def drop_blob_unless_used(db: Database, blobs: Blobs, key: str) -> bool:
    """Delete the file under `key` unless a clip still needs it; True when it was deleted."""
    async with db.session() as session:
        if await blob_in_use(session, key):
            return False
    await blobs.delete(key)
    return True


async def parent_of(session: AsyncSession, clip: Clip) -> Clip | None:
    """The clip this one remixes; None for an original."""
    return await session.get(Clip, clip.parent_id) if clip.parent_id is not None else None


async def point_at(session: AsyncSession, clip_id: int, key: str, *, size_bytes: int) -> None:
    """The clip's file is now the one under `key` (its signed copy replaces the unsigned one)."""
    await session.exec(
        update(Clip).where(col(Clip.id) == clip_id).values(blob_key=key, size_bytes=size_bytes)
    )


async def clip_in_chat(
    session: AsyncSession, clip_id: int, platform: str, platform_chat_id: str
) -> Clip | None:
    """The clip, if it was made in this chat and is not deleted (None otherwise, whichever)."""
    query = (
        select(Clip)
        .join(Chat, col(Chat.id) == col(Clip.chat_id))
        .where(
            Clip.id == clip_id,
            col(Clip.deleted).is_(False),
            Chat.platform == platform,
            Chat.platform_chat_id == platform_chat_id,
        )
    )
    return (await session.exec(query)).first()

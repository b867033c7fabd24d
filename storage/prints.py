"""Clip fingerprints, and what a traced copy is told about its clip.

A fingerprint row outlives its clip: deleting a clip buries its fingerprint (a tombstone that
says "made by clipcrew, since deleted", without the prompt or the people), it never removes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cameos import cameo_owners_of_clip
from storage.models import Chat, Clip, ClipPrint, User, utcnow

# Fingerprints are read in pages, so a lookup never holds every row at once.
PAGE = 2000


async def add_print(session: AsyncSession, clip_id: int, data: bytes, *, duration_s: float) -> None:
    """Keep a clip's fingerprint; a second one for the same clip (a retried job) is ignored."""
    if await session.get(ClipPrint, clip_id) is None:
        session.add(ClipPrint(clip_id=clip_id, data=data, duration_s=duration_s))


async def has_print(session: AsyncSession, clip_id: int) -> bool:
    """Whether the clip's fingerprint is kept (its worker finished sealing it)."""
    return await session.get(ClipPrint, clip_id) is not None


async def bury(session: AsyncSession, clip_ids: list[int]) -> None:
    """Mark these clips' fingerprints as tombstones (their clips were deleted)."""
    await session.exec(
        update(ClipPrint)
        .where(col(ClipPrint.clip_id).in_(clip_ids), col(ClipPrint.deleted_at).is_(None))
        .values(deleted_at=utcnow())
    )


async def pages(session: AsyncSession, *, page: int = PAGE) -> AsyncIterator[list[ClipPrint]]:
    """Every fingerprint, newest first, a page at a time."""
    before: int | None = None
    while True:
        query = select(ClipPrint).order_by(col(ClipPrint.clip_id).desc()).limit(page)
        if before is not None:
            query = query.where(col(ClipPrint.clip_id) < before)
        rows = list(await session.exec(query))
        if not rows:
            return
        yield rows
        before = rows[-1].clip_id


@dataclass(frozen=True)
class ClipStory:
    """What `clipcrew verify` says about a traced clip. A deleted clip says only its number
    and date."""

    clip_id: int
    created_at: datetime
    deleted: bool
    chat: str = ""
    platform: str = ""
    author: str = ""
    cameos: tuple[str, ...] = ()
    parent_id: int | None = None


async def clip_story(session: AsyncSession, clip_id: int) -> ClipStory | None:
    """The clip's story, or None when there is neither a clip nor a fingerprint by that id."""
    clip = await session.get(Clip, clip_id)
    if clip is None or clip.deleted:
        tomb = await session.get(ClipPrint, clip_id)
        created = clip.created_at if clip is not None else tomb.created_at if tomb else None
        if created is None:
            return None
        return ClipStory(clip_id=clip_id, created_at=created, deleted=True)
    chat = await session.get(Chat, clip.chat_id)
    author = await session.get(User, clip.author_id)
    owners = await cameo_owners_of_clip(session, clip_id)
    return ClipStory(
        clip_id=clip_id,
        created_at=clip.created_at,
        deleted=False,
        chat=(chat.title or chat.platform_chat_id) if chat else "",
        platform=chat.platform if chat else "",
        author=author.handle if author else "",
        cameos=tuple(sorted(owner.handle for owner in owners)),
        parent_id=clip.parent_id,
    )

"""Clips as the feed finds them, written straight into storage: a chat, authors, clips with an
age and a parent, and the message that shows each (the feed tests need no renders)."""

from __future__ import annotations

from datetime import timedelta

from bot.types import ChatRef, ChatUser
from storage import deliveries
from storage.db import Database
from storage.models import Clip, utcnow
from storage.people import upsert_chat, upsert_user


async def posted_clip(
    db: Database,
    chat: ChatRef,
    author: ChatUser,
    prompt: str,
    *,
    hours_old: float = 0.0,
    parent_id: int | None = None,
    message_id: str | None = None,
    blob_key: str = "0" * 64 + ".mp4",
) -> int:
    """A finished clip of `chat` by `author`, posted as `message_id` (default: clip-<id>)."""
    async with db.transaction() as session:
        user = await upsert_user(
            session,
            platform=author.platform,
            platform_user_id=author.user_id,
            display_name=author.display_name,
            username=author.username,
        )
        chat_row = await upsert_chat(
            session, platform=chat.platform, platform_chat_id=chat.chat_id, title=chat.title
        )
        assert user.id is not None and chat_row.id is not None
        clip = Clip(
            job_id=f"job-{prompt}-{utcnow().timestamp()}",
            prompt=prompt,
            seed=1,
            engine="sketch",
            duration_s=1.0,
            width=64,
            height=64,
            size_bytes=10,
            author_id=user.id,
            chat_id=chat_row.id,
            parent_id=parent_id,
            blob_key=blob_key,
            created_at=utcnow() - timedelta(hours=hours_old),
        )
        session.add(clip)
        await session.flush()
        assert clip.id is not None
        target = deliveries.Target(clip.id, chat.platform, chat.chat_id)
        await deliveries.claim(session, target, claimant="tests")
        await deliveries.mark_sent(session, target, message_id=message_id or f"clip-{clip.id}")
        return clip.id

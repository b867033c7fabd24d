"""Rows the tests need, made through storage itself: a job (with its user and chat) and the
clip a finished job leaves behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clipcrew.settings import Settings
from storage import jobs as job_rows
from storage.db import Database
from storage.models import Clip, Job
from storage.people import upsert_chat, upsert_user


async def make_job(db: Database, **overrides: Any) -> Job:
    """A queued 1-second 64x64 job by user u1 in chat c1; any column can be overridden."""
    async with db.transaction() as session:
        user = await upsert_user(
            session,
            platform="test",
            platform_user_id="u1",
            display_name="Frog Fan",
            username="frogfan",
        )
        chat = await upsert_chat(session, platform="test", platform_chat_id="c1")
        assert user.id is not None and chat.id is not None
        values: dict[str, Any] = {
            "id": job_rows.new_job_id(),
            "prompt": 'a frog says "ribbit"',
            "dialogue": [{"text": "ribbit", "speaker": None}],
            "seed": 7,
            "engine": "sketch",
            "duration_s": 1.0,
            "width": 64,
            "height": 64,
            "fps": 8,
            "author_id": user.id,
            "chat_id": chat.id,
        }
        job = Job(**(values | overrides))
        session.add(job)
    return job


async def make_clip(db: Database, job: Job, *, blob_key: str = "k") -> Clip:
    """The clip row of a finished job (its file is not written: pass a real key if needed)."""
    async with db.transaction() as session:
        clip = job_rows.clip_of(
            job, blob_key=blob_key, size_bytes=3, width=512, height=512, duration_s=5.0
        )
        session.add(clip)
        await session.flush()
    return clip


def small_settings(folder: Path, **env: Any) -> Settings:
    """Settings for a test: its own data folder, tiny quick clips, the local chat and the feed
    pages on free ports, and nothing taken from the machine's environment or .env unless given
    here."""
    values: dict[str, Any] = {
        "CLIPCREW_DATA_DIR": folder,
        "CLIPCREW_CLIP_WIDTH": 128,
        "CLIPCREW_CLIP_HEIGHT": 128,
        "CLIPCREW_CLIP_SECONDS": 1,
        "CLIPCREW_CLIP_FPS": 12,
        "CLIPCREW_LOCAL_CHAT": "127.0.0.1:0",
        "CLIPCREW_FEED_LISTEN": "127.0.0.1:0",
        "REDIS_URL": None,
        "DATABASE_URL": None,
    }
    return Settings(_env_file=None, **(values | env))  # type: ignore[call-arg]

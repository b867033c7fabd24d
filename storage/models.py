"""SQLModel tables. Every change here comes with an alembic revision in storage/migrations."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    # sqlmodel's UTCDateTime column stores aware datetimes and gives them back aware on both
    # SQLite and PostgreSQL.
    return datetime.now(UTC)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


IN_FLIGHT = (JobState.QUEUED, JobState.RUNNING)
FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class User(SQLModel, table=True):
    """A person as one platform knows them; the same human on two platforms is two rows."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    platform_user_id: str = Field(max_length=128)
    display_name: str = Field(max_length=128)
    username: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def handle(self) -> str:
        """How clips name this person: @username where the platform has one."""
        return f"@{self.username}" if self.username else self.display_name


class Chat(SQLModel, table=True):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "platform_chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    platform_chat_id: str = Field(max_length=128)
    title: str = Field(default="", max_length=256)
    created_at: datetime = Field(default_factory=utcnow)


class Job(SQLModel, table=True):
    """One request to render a clip. Its id is also the queue's job id, so enqueueing twice is
    a no-op, and it carries everything the worker needs: the job message is only this id."""

    __tablename__ = "jobs"

    id: str = Field(primary_key=True, max_length=64)
    state: JobState = Field(default=JobState.QUEUED, index=True, max_length=16)
    prompt: str
    # Quoted dialogue the bot extracted from the prompt: [{"speaker": str|None, "text": str}].
    dialogue: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    seed: int
    engine: str = Field(max_length=32)
    duration_s: float
    width: int
    height: int
    fps: int
    author_id: int = Field(foreign_key="users.id", index=True)
    chat_id: int = Field(foreign_key="chats.id", index=True)
    parent_clip_id: int | None = Field(default=None, foreign_key="clips.id")
    # Platform message ids: the command to answer, and the status message the bot edits.
    request_message_id: str | None = Field(default=None, max_length=128)
    status_message_id: str | None = Field(default=None, max_length=128)
    attempts: int = 0
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Clip(SQLModel, table=True):
    """A finished clip. One per job (job_id is unique), so a retried job cannot make two.

    job_id carries no foreign key on purpose: jobs already point at clips (parent_clip_id), and a
    cycle of foreign keys makes table creation and deletion order ambiguous."""

    __tablename__ = "clips"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(unique=True, max_length=64)
    prompt: str
    seed: int
    engine: str = Field(max_length=32)
    duration_s: float
    width: int
    height: int
    size_bytes: int
    author_id: int = Field(foreign_key="users.id", index=True)
    chat_id: int = Field(foreign_key="chats.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="clips.id", index=True)
    blob_key: str = Field(max_length=128)
    deleted: bool = False
    created_at: datetime = Field(default_factory=utcnow, index=True)


class DeliveryState(enum.StrEnum):
    SENDING = "sending"
    SENT = "sent"


class Delivery(SQLModel, table=True):
    """Which platform message shows which clip. The unique key makes posting idempotent: a
    delivery is claimed (SENDING) before the upload and marked SENT with the message id after."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("clip_id", "platform", "platform_chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True)
    platform: str = Field(max_length=32)
    platform_chat_id: str = Field(max_length=128)
    platform_message_id: str | None = Field(default=None, max_length=128)
    state: DeliveryState = Field(default=DeliveryState.SENDING, max_length=16)
    # Which process claimed it; a claim left SENDING by an earlier process may be retried.
    claimed_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None

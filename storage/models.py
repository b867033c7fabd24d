"""SQLModel tables. Every change here comes with an alembic revision in storage/migrations."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    # sqlmodel's UTCDateTime column stores aware datetimes and gives them back aware on both
    # SQLite and PostgreSQL.
    return datetime.now(UTC)


class JobState(enum.StrEnum):
    # A cameo's owner has been asked and has not answered yet; nothing is queued.
    AWAITING_CONSENT = "awaiting_consent"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # The finished clip showed an enrolled face whose owner did not consent; nothing posted.
    BLOCKED = "blocked"


# Jobs the queue holds or a worker runs (what a restart hands to the queue again).
IN_FLIGHT = (JobState.QUEUED, JobState.RUNNING)
# Jobs that count against a person's cap: in flight or waiting for a cameo owner.
ACTIVE = (JobState.AWAITING_CONSENT, *IN_FLIGHT)
FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.BLOCKED)


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
    # None: the worker's engine picks (a model family's own size, rate and length).
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    # The chat platform's upload limit, so the first encode already fits it.
    target_bytes: int | None = None
    author_id: int = Field(foreign_key="users.id", index=True)
    chat_id: int = Field(foreign_key="chats.id", index=True)
    parent_clip_id: int | None = Field(default=None, foreign_key="clips.id")
    # Platform message ids: the command to answer, and the status message the bot edits.
    request_message_id: str | None = Field(default=None, max_length=128)
    status_message_id: str | None = Field(default=None, max_length=128)
    attempts: int = 0
    # While running: the worker holding the job and until when its lease runs; a worker that
    # stops renewing it (killed, out of memory, a lost machine) loses the job to another.
    worker: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, index=True)
    # The chat policy's nudity threshold when the job was recorded; the worker's output check
    # blocks a clip scoring above it. None: the check's own default.
    nudity_threshold: float | None = None
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


class Cameo(SQLModel, table=True):
    """A person's verified likeness and who may use it. Only the embedding, a few reference
    crops (blob keys) and the settings are kept; deleting the row and its crops forgets the face.
    One per person: enrolling again replaces it."""

    __tablename__ = "cameos"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", unique=True)
    # bot.consent.Audience: only_me / approved / everyone.
    audience: str = Field(default="approved", max_length=16)
    # Platform chat ids the owner limited the cameo to; None: any chat.
    only_in_chats: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Added to every prompt that uses the cameo ("always wearing a red hat").
    preferences: str = Field(default="", max_length=300)
    # The code the owner was asked to say in the selfie clip; shown back to them, not checked.
    spoken_code: str = Field(max_length=8)
    # The face model that made the embedding; another model's embeddings are not comparable.
    face_model: str = Field(max_length=64)
    embedding: list[float] = Field(sa_column=Column(JSON, nullable=False))
    crop_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What the enrollment checks measured (yaw range, spread, ...), for the owner to see.
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CameoEnrollment(SQLModel, table=True):
    """An open enrollment: the code a person was shown, waiting for their selfie clip."""

    __tablename__ = "cameo_enrollments"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    code: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow)


class CameoGrant(SQLModel, table=True):
    """ "Always allow <person>": a standing yes for one person, until the owner revokes it."""

    __tablename__ = "cameo_grants"
    __table_args__ = (UniqueConstraint("cameo_id", "grantee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cameo_id: int = Field(foreign_key="cameos.id", index=True)
    grantee_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)


class ApprovalState(enum.StrEnum):
    # The owner's settings allowed it without asking (everyone, a standing grant, the owner).
    ALLOWED = "allowed"
    PENDING = "pending"
    # The owner pressed Approve once (or Always allow).
    APPROVED = "approved"
    DENIED = "denied"
    # Nobody answered in time.
    EXPIRED = "expired"
    # The owner's settings changed after the yes (audience, a revoked grant, forget me).
    REVOKED = "revoked"


CONSENTED = (ApprovalState.ALLOWED, ApprovalState.APPROVED)


class JobCameo(SQLModel, table=True):
    """A cameo used in a job, and its owner's consent for that one use. Its id is what the
    consent buttons carry."""

    __tablename__ = "job_cameos"
    __table_args__ = (UniqueConstraint("job_id", "cameo_id"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="jobs.id", index=True, max_length=64)
    cameo_id: int = Field(foreign_key="cameos.id", index=True)
    state: ApprovalState = Field(default=ApprovalState.PENDING, max_length=16)
    # The direct message that asked the owner, edited once answered.
    dm_chat_id: str | None = Field(default=None, max_length=128)
    dm_message_id: str | None = Field(default=None, max_length=128)
    # The output check's similarity of the cameo's face in the finished clip (0..1).
    similarity: float | None = None
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class Reaction(SQLModel, table=True):
    """Reactions on a posted clip. A person's row is one emoji from one person (added and
    removed as they react); a row without a person is a platform's anonymous count for that
    emoji (Telegram's message_reaction_count), replaced as the count changes."""

    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("clip_id", "user_id", "emoji"),)

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    emoji: str = Field(max_length=64)
    count: int = 1
    created_at: datetime = Field(default_factory=utcnow)


class ChatPolicy(SQLModel, table=True):
    """A chat's guardrails as its admins set them: the moderation preset and the daily budgets
    (None: the defaults in bot.policy). A chat without a row has the defaults."""

    __tablename__ = "chat_policies"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id", unique=True)
    preset: str = Field(max_length=16)
    per_person_daily: int | None = None
    per_chat_daily: int | None = None
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(default_factory=utcnow)


class Ban(SQLModel, table=True):
    """A person an admin stopped from making clips in one chat."""

    __tablename__ = "bans"
    __table_args__ = (UniqueConstraint("chat_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    banned_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, in which chat: refusals (with the category) and admin actions.
    `detail` never holds the prompt of a refused request in the sexual_minors category."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    # refused, policy, ban, unban, limit, queue, cancel, purge, log
    action: str = Field(max_length=16)
    # A refusal's category (or "budget", "banned"); empty for admin actions.
    category: str = Field(default="", max_length=32)
    detail: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ClipPrint(SQLModel, table=True):
    """A posted clip's fingerprint (engine.provenance.fingerprint: picture and sound hashes,
    about a kilobyte), so a re-encoded copy can be traced back to it. No foreign key to clips
    and no prompt on purpose: when the clip is deleted it stays as a tombstone ("made by
    clipcrew, since deleted"), with `deleted_at` set."""

    __tablename__ = "clip_prints"

    clip_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    duration_s: float
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None

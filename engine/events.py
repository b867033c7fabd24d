"""Job events: what the worker tells the bot about a job. Plain data, JSON on the wire."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

EventKind = Literal["started", "progress", "done", "failed"]


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    kind: EventKind
    stage: str = ""
    # Progress in [0, 1] across the whole pipeline, and the current stage's step i of n.
    fraction: float = 0.0
    step: int = 0
    steps: int = 0
    clip_id: int | None = None
    # For `failed`: a sentence a person can read in the chat. Never a traceback.
    error: str = ""
    # For `progress`: a small JPEG of the picture as it forms, stored as a blob (the worker
    # deletes it when the job ends, so a bot reads it while the job runs or not at all).
    preview_key: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> JobEvent:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("kind") not in (
            "started",
            "progress",
            "done",
            "failed",
        ):
            raise ValueError(f"not a job event: {raw!r:.200}")
        return cls(**data)


@dataclass(frozen=True)
class Delivered:
    """An event read from a channel, with the handle to acknowledge it by."""

    id: str
    event: JobEvent


class EventSink(Protocol):
    """Where the worker publishes events."""

    async def publish(self, event: JobEvent) -> None: ...


class EventSource(Protocol):
    """Where the bot reads events. Unacknowledged events are read again after a restart."""

    async def read(self, *, block_ms: int = 1000, count: int = 100) -> list[Delivered]: ...

    async def ack(self, delivered: Delivered) -> None: ...

"""The job queue interface the bot uses: enqueue a job id. Implementations in engine.queues."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    async def enqueue(self, job_id: str) -> bool:
        """Queue `job_id`; False if it is already queued (a second enqueue is a no-op)."""
        ...

    async def close(self) -> None: ...

"""Handing a recorded job to the queue, so that a queue that cannot take it never loses it."""

from __future__ import annotations

import logging

from bot.deps import Deps
from bot.errors import EngineUnavailable
from engine.queue import QueueUnavailable
from storage import jobs as job_rows
from storage.models import JobState

log = logging.getLogger(__name__)


async def enqueue(deps: Deps, job_id: str) -> bool:
    """Hand the job to the queue. False when the queue is unreachable (Redis restarting): the
    job stays queued in storage and is handed over once the queue is back (the requeue sweep
    in `bot.events`), so the person's clip is late, not lost. Any other failure ends the job
    failed, not forgotten."""
    try:
        await deps.queue.enqueue(job_id)
        return True
    except QueueUnavailable:
        log.warning("queue unreachable; the job waits in storage", extra={"job_id": job_id})
        return False
    except Exception as exc:
        log.exception("enqueue failed", extra={"job_id": job_id})
        error = EngineUnavailable()
        async with deps.db.transaction() as session:
            await job_rows.transition(session, job_id, JobState.FAILED, error=str(error))
        raise error from exc

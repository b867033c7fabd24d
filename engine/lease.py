"""Leases instead of timeouts: a running job belongs to its worker only while the worker is
alive to renew it, so a killed worker's job is taken over in seconds, not after the job timeout.

The worker renews its lease every `RENEW_S` while it renders (engine.jobs). Every worker also
sweeps every `SWEEP_S`: a job whose lease ran out goes back to the queue (a fresh queue message,
since the dead worker's message is still marked in progress), or ends failed after
`MAX_ATTEMPTS` tries, with the person told why. A takeover therefore starts at most
`LEASE_S + SWEEP_S` seconds after the worker stopped, whatever CLIPCREW_JOB_TIMEOUT says.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from engine.events import EventSink, JobEvent
from engine.metrics import JOB_TAKEOVERS, WORKER_JOBS
from storage.db import Database
from storage.leases import reclaim_lapsed
from storage.models import utcnow

log = logging.getLogger(__name__)

# A worker that has not renewed for this long is taken to be gone.
LEASE_S = 15.0
RENEW_S = 5.0
SWEEP_S = 5.0
# Each run that ends with its worker gone counts; the third such run is the last.
MAX_ATTEMPTS = 3
GAVE_UP = (
    "Your clip couldn't be made: the worker making it stopped in the middle three times. "
    "Please try again, perhaps with a shorter or simpler prompt."
)

# (job id, tries so far) → queued again for another worker.
Requeue = Callable[[str, int], Awaitable[object]]


def worker_name() -> str:
    """Names this worker process in the jobs it holds: host, pid and a random tail (a pid can
    come back after a restart; the tail cannot)."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(3)}"


async def sweep(db: Database, requeue: Requeue, events: EventSink) -> int:
    """Take over every job whose lease ran out; returns how many were taken over or ended."""
    async with db.transaction() as session:
        reclaimed = await reclaim_lapsed(
            session, now=utcnow(), max_attempts=MAX_ATTEMPTS, reason=GAVE_UP
        )
    for job_id, attempts in reclaimed.requeued:
        log.warning("job taken over", extra={"job_id": job_id, "attempts": attempts})
        JOB_TAKEOVERS.inc()
        await requeue(job_id, attempts)
    for job_id in reclaimed.failed:
        log.warning("job out of tries", extra={"job_id": job_id})
        WORKER_JOBS.labels(outcome="failed").inc()
        await events.publish(JobEvent(job_id=job_id, kind="failed", error=GAVE_UP))
    return len(reclaimed.requeued) + len(reclaimed.failed)


async def run_sweeper(
    db: Database, requeue: Requeue, events: EventSink, *, every_s: float = SWEEP_S
) -> None:
    """Sweep until cancelled; a failed sweep (the database restarting) is tried again."""
    while True:
        try:
            await sweep(db, requeue, events)
        except Exception:
            log.exception("sweeping for lapsed leases failed")
        await asyncio.sleep(every_s)

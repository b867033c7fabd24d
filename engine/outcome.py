"""How a job ends: its clip stored and sealed, or its failure recorded, and the events that tell
the bot. The job's start and end events wait out a channel outage; progress events do not.
"""

from __future__ import annotations

import asyncio
import logging

from engine.api import GENERIC_FAILURE
from engine.cameos import ConsentWithdrawn
from engine.context import WorkerContext
from engine.events import JobEvent
from engine.metrics import WORKER_JOBS
from engine.request import Cancelled, EncodedClip, EngineError
from storage import clips
from storage import jobs as job_rows
from storage.models import Clip, Job, JobState

log = logging.getLogger(__name__)

# A job's terminal event is retried this long through a Redis outage before the job gives up.
PUBLISH_RETRY_S = 1.0
PUBLISH_PATIENCE_S = 300.0


async def store_clip(ctx: WorkerContext, job: Job, encoded: EncodedClip) -> Clip:
    """Store the file, then the row; a failed row write removes the orphan file (unless
    another clip has the very same bytes)."""
    key = await ctx.blobs.put(encoded.data, "mp4")
    clip = job_rows.clip_of(
        job,
        blob_key=key,
        size_bytes=encoded.size_bytes,
        engine=encoded.engine,
        width=encoded.width,
        height=encoded.height,
        duration_s=encoded.duration_s,
    )
    try:
        stored = await ctx.ledger.store(clip)
    except Exception:
        await clips.drop_blob_unless_used(ctx.db, ctx.blobs, key)
        raise
    if stored is None:
        await clips.drop_blob_unless_used(ctx.db, ctx.blobs, key)
        raise Cancelled("The clip was cancelled.")
    # Now that the clip has its number: sign it (the last step) and keep its fingerprint.
    from engine.provenance.seal import model_name, seal

    model = model_name(ctx.backend)
    return await seal(
        ctx.db,
        ctx.blobs,
        ctx.signer,
        stored,
        encoded.data,
        model=model,
        fingerprint=encoded.fingerprint,
    )


async def progress(ctx: WorkerContext, event: JobEvent) -> None:
    """A progress event is a courtesy: one that cannot be sent (Redis restarting) is dropped."""
    try:
        await ctx.events.publish(event)
    except Exception:
        log.info("progress event dropped", extra={"job_id": event.job_id})


async def publish(ctx: WorkerContext, event: JobEvent) -> None:
    """A job's start and its end must reach the bot: wait out a channel outage (Redis
    restarting) rather than drop them; the clip is stored whatever happens."""
    waited = 0.0
    while True:
        try:
            await ctx.events.publish(event)
            return
        except Exception:
            if waited >= PUBLISH_PATIENCE_S:
                raise
            log.warning("event not sent yet; retrying", extra={"job_id": event.job_id})
            await asyncio.sleep(PUBLISH_RETRY_S)
            waited += PUBLISH_RETRY_S


async def report_done(ctx: WorkerContext, job_id: str, clip: Clip) -> None:
    await publish(ctx, JobEvent(job_id=job_id, kind="done", fraction=1.0, clip_id=clip.id))
    log.info("job done", extra={"job_id": job_id, "clip_id": clip.id, "bytes": clip.size_bytes})


async def fail(ctx: WorkerContext, job_id: str, exc: Exception) -> None:
    if isinstance(exc, ConsentWithdrawn):
        await _cancelled(ctx, job_id, str(exc))
        return
    if isinstance(exc, Cancelled):
        # Stopped because the job is no longer this worker's: cancelled by someone (who told
        # the person), or taken over by another worker after a lapse. Nothing to record.
        log.info("job stopped", extra={"job_id": job_id})
        return
    if isinstance(exc, EngineError):
        reason = str(exc)
        log.warning("job failed", extra={"job_id": job_id, "reason": reason})
    else:
        reason = GENERIC_FAILURE
        log.exception("job crashed", extra={"job_id": job_id})
    await end(ctx, job_id, JobState.FAILED, reason)


async def _cancelled(ctx: WorkerContext, job_id: str, reason: str) -> None:
    """Stopped because it was cancelled. Whoever cancelled it told the person already; only a
    cancel this worker found itself (consent gone when it started) is reported from here."""
    async with ctx.db.transaction() as session:
        moved = await job_rows.transition(session, job_id, JobState.CANCELLED, error=reason)
    log.info("job cancelled", extra={"job_id": job_id, "by_worker": moved})
    WORKER_JOBS.labels(outcome="cancelled").inc()
    if moved:
        await publish(ctx, JobEvent(job_id=job_id, kind="failed", error=reason))


async def end(ctx: WorkerContext, job_id: str, state: JobState, reason: str) -> None:
    WORKER_JOBS.labels(outcome=str(state.value).lower()).inc()
    async with ctx.db.transaction() as session:
        await job_rows.transition(session, job_id, state, error=reason)
    await publish(ctx, JobEvent(job_id=job_id, kind="failed", error=reason))

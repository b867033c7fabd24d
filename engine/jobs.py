"""The job function: a job id in, a stored clip and events out.

It reads everything from storage (the queue message is only the id), so a retried job sees the
current state, and it is idempotent: a job that already has its clip just reports done again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from engine.cameos import (
    Blocked,
    ConsentWithdrawn,
    FaceModels,
    OutputVerdict,
    consented,
    output_screen,
    record_similarities,
)
from engine.config import WorkerConfig
from engine.events import EventSink, JobEvent
from engine.lease import LEASE_S, RENEW_S, worker_name
from engine.ledger import Ledger
from engine.metrics import RENDER_SECONDS, WORKER_JOBS
from engine.previews import PreviewSender
from engine.provenance.manifest import ClipSigner, room_for_manifest
from engine.request import (
    CameoRef,
    Cancelled,
    ClipDefaults,
    EncodedClip,
    EngineError,
    Line,
    ProgressCallback,
    RenderRequest,
    StageProgress,
    clip_shape,
)
from storage import jobs as job_rows
from storage import leases
from storage.blobs import Blobs, open_blobs
from storage.db import Database, connect
from storage.models import Clip, Job, JobState, utcnow

if TYPE_CHECKING:
    from engine.backends import VideoBackend
    from engine.moderation.nudity import NudityDetector, NudityScreen

log = logging.getLogger(__name__)

Render = Callable[[RenderRequest, ProgressCallback], EncodedClip]

GENERIC_FAILURE = "Something went wrong while making your clip. Please try again."
# Progress events are for people watching a bar: a few per second is plenty.
PROGRESS_INTERVAL_S = 0.25
# How often a rendering job's row is read to see whether it was cancelled: a cancel stops the
# render at its next step, within about this long plus one step.
CANCEL_POLL_S = 0.3
# A job's terminal event is retried this long through a Redis outage before the job gives up.
PUBLISH_RETRY_S = 1.0
PUBLISH_PATIENCE_S = 300.0


@dataclass(frozen=True)
class WorkerContext:
    db: Database
    blobs: Blobs
    events: EventSink
    backend: VideoBackend
    # What turns a request into a clip; None is the pipeline over `backend`. The queue benchmark
    # swaps in a no-op here to measure everything around rendering through this very code.
    render: Render | None = None
    # Closed with the context when this context opened it (the worker process), not when the
    # caller lent it (`clipcrew serve` shares the bot's database).
    owns_db: bool = True
    # CLIPCREW_TTS_VOICE: a Piper voice model file for the dialogue; None is espeak-ng.
    voice: str | None = None
    # Face models for cameos and the output check, loaded when first needed.
    faces: FaceModels = field(default_factory=FaceModels)
    # The nudity check's detector; None is NudeNet, loaded on the first clip that needs it.
    nudity: NudityDetector | None = None
    # Signs each stored clip's C2PA manifest (engine.provenance); None: clips go unsigned.
    signer: ClipSigner | None = None
    # Names this worker in the jobs it holds (engine.lease); its leases last `lease_s`.
    worker: str = field(default_factory=worker_name)
    lease_s: float = LEASE_S
    renew_s: float = RENEW_S
    ledger: Ledger = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ledger = Ledger.over(self.db, worker=self.worker, lease_s=self.lease_s)
        object.__setattr__(self, "ledger", ledger)


async def build_context(
    config: WorkerConfig,
    *,
    events: EventSink | None = None,
    db: Database | None = None,
    faces: FaceModels | None = None,
) -> WorkerContext:
    """Open what a worker needs and load the backend once: models stay resident."""
    from engine.backends import load_configured_backend
    from engine.channels import make_events
    from engine.provenance.manifest import load_signer

    if events is None:
        events, _ = make_events(config.redis)
    backend = await asyncio.to_thread(load_configured_backend, config)
    log.info(
        "engine ready",
        extra={"engine": backend.name, "defaults": backend.defaults.describe()},
    )
    return WorkerContext(
        db=db or connect(config.database_url),
        blobs=open_blobs(config.blobs),
        events=events,
        backend=backend,
        owns_db=db is None,
        voice=config.voice,
        faces=faces or FaceModels.from_config(config.faces),
        signer=await asyncio.to_thread(load_signer, config.provenance),
    )


async def close_context(ctx: WorkerContext) -> None:
    if ctx.owns_db:
        await ctx.db.close()
    close = getattr(ctx.events, "close", None)
    if close is not None and ctx.owns_db:
        await close()


async def run_job(ctx: WorkerContext, job_id: str) -> None:
    # 1. Claim the job; a finished or cancelled one is left alone (a duplicate delivery).
    start = await ctx.ledger.claim(job_id)
    claimed, existing = start.claimed, start.existing
    if existing is not None:
        # Rendered before (the worker died before reporting, or the queue delivered twice):
        # report it again; posting is idempotent on the bot's side. A worker that died between
        # storing the clip and signing it left it unsigned: sign it now.
        from engine.provenance.seal import model_name, seal_if_unsealed

        existing = await seal_if_unsealed(
            ctx.db, ctx.blobs, ctx.signer, existing, model=model_name(ctx.backend)
        )
        await _report_done(ctx, job_id, existing)
        return
    if claimed is None:
        log.info("job not runnable", extra={"job_id": job_id})
        return
    # The turn may have gone to a fairer job than the one the queue carried (storage.fairness).
    job_id = claimed.job.id
    began = time.monotonic()
    await _publish(ctx, JobEvent(job_id=job_id, kind="started", stage="starting"))
    try:
        # 2. Consent for each cameo, as the bot recorded it, still holds.
        cameos = await consented(ctx.db, ctx.blobs, job_id)
        # 3. Render, check for faces without consent, encode (in a thread: the event loop
        # keeps serving the chat meanwhile).
        verdicts: list[OutputVerdict] = []
        request = render_request(claimed, cameos, defaults=ctx.backend.defaults)
        encoded = await _generate(
            ctx,
            request,
            verdicts,
            author_id=claimed.job.author_id,
            # The C2PA manifest signed onto the clip afterwards must fit too.
            target_bytes=room_for_manifest(claimed.job.target_bytes, ctx.signer),
        )
        if verdicts:
            await record_similarities(ctx.db, job_id, verdicts[0])
        # 4. Store the file, then the row; a failed row write removes the orphan file.
        clip = await _store(ctx, claimed.job, encoded)
        RENDER_SECONDS.labels(engine=ctx.backend.name).observe(time.monotonic() - began)
        WORKER_JOBS.labels(outcome="done").inc()
    except Blocked as blocked:
        await _end(ctx, job_id, JobState.BLOCKED, str(blocked))
        return
    except Exception as exc:
        await _fail(ctx, job_id, exc)
        return
    except asyncio.CancelledError:
        # The worker is stopping (SIGTERM past its grace period): another worker takes over.
        await hand_back(ctx, job_id)
        raise
    await _report_done(ctx, job_id, clip)


def render_request(
    claimed: job_rows.Claimed, cameos: tuple[CameoRef, ...] = (), *, defaults: ClipDefaults
) -> RenderRequest:
    """The job as the engine renders it; what the job left open comes from `defaults`."""
    job = claimed.job
    shape = clip_shape(
        defaults, width=job.width, height=job.height, fps=job.fps, duration_s=job.duration_s
    )
    return RenderRequest(
        prompt=job.prompt,
        seed=job.seed,
        width=shape.width,
        height=shape.height,
        fps=shape.fps,
        duration_s=shape.duration_s,
        frames=shape.frames,
        dialogue=tuple(Line(text=d["text"], speaker=d.get("speaker")) for d in job.dialogue),
        author=claimed.author,
        job_id=job.id,
        cameos=cameos,
        # The chat's policy, recorded on the job by the bot (None: the strict preset's).
        nudity_threshold=job.nudity_threshold,
    )


async def _generate(
    ctx: WorkerContext,
    request: RenderRequest,
    verdicts: list[OutputVerdict] | None = None,
    *,
    author_id: int | None = None,
    target_bytes: int | None = None,
) -> EncodedClip:
    loop = asyncio.get_running_loop()
    last_sent = [0.0]
    pending: list[concurrent.futures.Future[None]] = []
    cancelled = threading.Event()
    previews = PreviewSender(ctx.blobs, request.job_id, loop)

    def on_progress(progress: StageProgress) -> None:
        # Runs on the render thread: stop if the job was cancelled, else hand the event to the
        # loop, at a human rate (a preview frame goes out at its own, slower one).
        if cancelled.is_set():
            raise Cancelled("The clip was cancelled.")
        preview_key = previews.store(progress)
        now = time.monotonic()
        if preview_key is None and now - last_sent[0] < PROGRESS_INTERVAL_S:
            return
        last_sent[0] = now
        event = JobEvent(
            job_id=request.job_id,
            kind="progress",
            stage=progress.stage,
            fraction=progress.fraction,
            step=progress.step,
            steps=progress.steps,
            preview_key=preview_key,
        )
        pending.append(asyncio.run_coroutine_threadsafe(_progress(ctx, event), loop))

    watcher = asyncio.create_task(_hold_lease(ctx, request.job_id, cancelled))
    try:
        encoded = await _render(ctx, request, on_progress, verdicts, author_id, target_bytes)
    except asyncio.CancelledError:
        cancelled.set()  # the worker is stopping: the render thread ends at its next step
        raise
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        # The previews have been shown (or missed): their blobs go.
        await previews.close()
    for future in pending:
        await asyncio.wrap_future(future)
    return encoded


async def _render(
    ctx: WorkerContext,
    request: RenderRequest,
    on_progress: ProgressCallback,
    verdicts: list[OutputVerdict] | None,
    author_id: int | None,
    target_bytes: int | None,
) -> EncodedClip:
    from engine.pipeline import generate

    if ctx.render is not None:
        return await asyncio.to_thread(ctx.render, request, on_progress)
    swap = await ctx.faces.swap_tool() if request.cameos else None
    screen = await output_screen(
        ctx.db,
        ctx.faces,
        author_id=author_id,
        consenting={ref.cameo_id for ref in request.cameos},
    )
    nudity = _nudity_screen(ctx, request)
    return await asyncio.to_thread(
        generate,
        request,
        ctx.backend,
        on_progress=on_progress,
        target_bytes=target_bytes,
        voice=ctx.voice,
        swap=swap,
        screen=screen,
        verdicts=verdicts,
        nudity=nudity,
    )


async def _hold_lease(ctx: WorkerContext, job_id: str, stop: threading.Event) -> None:
    """Renew this worker's lease on the job while it renders, and set `stop` once the job is
    no longer this worker's to finish (cancelled: consent withdrawn, a cancel press, a forgotten
    cameo; or taken over after a lapse). The render thread sees it at its next step."""
    renewed = time.monotonic()
    while True:
        await asyncio.sleep(CANCEL_POLL_S)
        try:
            if time.monotonic() - renewed >= ctx.renew_s:
                until = utcnow() + timedelta(seconds=ctx.lease_s)
                async with ctx.db.transaction() as session:
                    held = await leases.renew(session, job_id, ctx.worker, until)
                renewed = time.monotonic()
            else:
                async with ctx.db.session() as session:
                    held = await job_rows.state_of(session, job_id) is JobState.RUNNING
        except Exception:
            log.warning("could not check the job's lease", extra={"job_id": job_id})
            continue
        if not held:
            stop.set()
            return


async def hand_back(ctx: WorkerContext, job_id: str) -> None:
    """This worker is stopping: its unfinished job goes back to the queue for another."""
    async with ctx.db.transaction() as session:
        returned = await leases.hand_back(session, job_id, ctx.worker)
    log.info("job handed back", extra={"job_id": job_id, "returned": returned})


def _nudity_screen(ctx: WorkerContext, request: RenderRequest) -> NudityScreen | None:
    """The nudity check at the job's threshold; None where the chat allows nudity."""
    from engine.api import ALLOWED
    from engine.moderation.nudity import DRAWN_ENGINES, nudity_screen

    if request.nudity_limit >= ALLOWED or ctx.backend.name in DRAWN_ENGINES:
        return None
    return nudity_screen(ctx.nudity, fps=request.fps, limit=request.nudity_limit)


async def _store(ctx: WorkerContext, job: Job, encoded: EncodedClip) -> Clip:
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
        await _drop_orphan(ctx, key)
        raise
    if stored is None:
        await _drop_orphan(ctx, key)
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


async def _drop_orphan(ctx: WorkerContext, key: str) -> None:
    # Content-addressed: another clip may hold the very same bytes; keep the file if so.
    from sqlmodel import select

    async with ctx.db.session() as session:
        shared = (await session.exec(select(Clip).where(Clip.blob_key == key))).first()
    if shared is None:
        await ctx.blobs.delete(key)


async def _progress(ctx: WorkerContext, event: JobEvent) -> None:
    """A progress event is a courtesy: one that cannot be sent (Redis restarting) is dropped."""
    try:
        await ctx.events.publish(event)
    except Exception:
        log.info("progress event dropped", extra={"job_id": event.job_id})


async def _publish(ctx: WorkerContext, event: JobEvent) -> None:
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


async def _report_done(ctx: WorkerContext, job_id: str, clip: Clip) -> None:
    await _publish(ctx, JobEvent(job_id=job_id, kind="done", fraction=1.0, clip_id=clip.id))
    log.info("job done", extra={"job_id": job_id, "clip_id": clip.id, "bytes": clip.size_bytes})


async def _fail(ctx: WorkerContext, job_id: str, exc: Exception) -> None:
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
    await _end(ctx, job_id, JobState.FAILED, reason)


async def _cancelled(ctx: WorkerContext, job_id: str, reason: str) -> None:
    """Stopped because it was cancelled. Whoever cancelled it told the person already; only a
    cancel this worker found itself (consent gone when it started) is reported from here."""
    async with ctx.db.transaction() as session:
        moved = await job_rows.transition(session, job_id, JobState.CANCELLED, error=reason)
    log.info("job cancelled", extra={"job_id": job_id, "by_worker": moved})
    WORKER_JOBS.labels(outcome="cancelled").inc()
    if moved:
        await _publish(ctx, JobEvent(job_id=job_id, kind="failed", error=reason))


async def _end(ctx: WorkerContext, job_id: str, state: JobState, reason: str) -> None:
    WORKER_JOBS.labels(outcome=str(state.value).lower()).inc()
    async with ctx.db.transaction() as session:
        await job_rows.transition(session, job_id, state, error=reason)
    await _publish(ctx, JobEvent(job_id=job_id, kind="failed", error=reason))

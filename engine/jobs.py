"""The job function: a job id in, a stored clip and events out.

It reads everything from storage (the queue message is only the id), so a retried job sees the
current state, and it is idempotent: a job that already has its clip just reports done again.
The worker's context is `engine.context`; how a job ends (its clip stored, its failure
recorded, the events that say so) is `engine.outcome`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from datetime import timedelta

from engine import outcome
from engine.api import ALLOWED
from engine.cameos import Blocked, OutputVerdict, consented, output_screen, record_similarities
from engine.context import WorkerContext
from engine.events import JobEvent
from engine.metrics import RENDER_SECONDS, WORKER_JOBS
from engine.moderation.nudity import DRAWN_ENGINES, NudityScreen, nudity_screen
from engine.previews import PreviewSender
from engine.provenance.manifest import room_for_manifest
from engine.request import (
    CameoRef,
    Cancelled,
    ClipDefaults,
    EncodedClip,
    Line,
    ProgressCallback,
    RenderRequest,
    StageProgress,
    clip_shape,
)
from storage import jobs as job_rows
from storage import leases
from storage.models import JobState, utcnow

log = logging.getLogger(__name__)

# Progress events are for people watching a bar: a few per second is plenty.
PROGRESS_INTERVAL_S = 0.25
# How often a rendering job's row is read to see whether it was cancelled: a cancel stops the
# render at its next step, within about this long plus one step.
CANCEL_POLL_S = 0.3


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
        await outcome.report_done(ctx, job_id, existing)
        return
    if claimed is None:
        log.info("job not runnable", extra={"job_id": job_id})
        return
    # The turn may have gone to a fairer job than the one the queue carried (storage.fairness).
    job_id = claimed.job.id
    began = time.monotonic()
    await outcome.publish(ctx, JobEvent(job_id=job_id, kind="started", stage="starting"))
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
        clip = await outcome.store_clip(ctx, claimed.job, encoded)
        RENDER_SECONDS.labels(engine=ctx.backend.name).observe(time.monotonic() - began)
        WORKER_JOBS.labels(outcome="done").inc()
    except Blocked as blocked:
        await outcome.end(ctx, job_id, JobState.BLOCKED, str(blocked))
        return
    except Exception as exc:
        await outcome.fail(ctx, job_id, exc)
        return
    except asyncio.CancelledError:
        # The worker is stopping (SIGTERM past its grace period): another worker takes over.
        await hand_back(ctx, job_id)
        raise
    await outcome.report_done(ctx, job_id, clip)


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
        pending.append(asyncio.run_coroutine_threadsafe(outcome.progress(ctx, event), loop))

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
    if request.nudity_limit >= ALLOWED or ctx.backend.name in DRAWN_ENGINES:
        return None
    return nudity_screen(ctx.nudity, fps=request.fps, limit=request.nudity_limit)

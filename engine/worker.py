"""The `clipcrew worker` process: an arq worker that runs `engine.jobs.run_job` for job ids, or
(`clipcrew worker --light`) one that runs the light tasks of `engine.light` on their own queue.

arq stays at this edge: its untyped `ctx` dict becomes a `WorkerContext` on the job function's
first line, and jobs travel as msgpack (`engine.queue_backends.serialize`), never pickle. Models
load once in `on_startup` and stay resident for every job the process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from arq.connections import RedisSettings
from arq.worker import create_worker, func
from redis.exceptions import RedisError

from engine.cameos import FaceModels
from engine.config import WorkerConfig
from engine.context import WorkerContext, build_context, close_context
from engine.jobs import run_job
from engine.lease import run_sweeper
from engine.light import RUN_LIGHT, LightContext, light_queue_name, run_task
from engine.moderation.task import warm_up as moderation_warm_up
from engine.provenance.manifest import load_signer
from engine.queue import Payload
from engine.queue_backends import RUN_JOB, ArqQueue, deserialize, queue_name, redact_url, serialize
from storage.blob_stores import open_blobs
from storage.db import connect

__all__ = [
    "CONTEXT_KEY",
    "MAX_TRIES",
    "POLL_DELAY_S",
    "WorkerNotStarted",
    "light_worker_settings",
    "run_job_arq",
    "run_light_arq",
    "run_worker",
    "run_worker_async",
    "worker_context",
    "worker_settings",
]

logger = logging.getLogger(__name__)

# Where on_startup leaves the typed context in arq's ctx dict.
CONTEXT_KEY = "clipcrew"
# A job is tried again only after `Retry` or a worker that died mid-job (arq reruns it after
# its timeout); ordinary exceptions are final. Three tries bound a job that kills workers.
MAX_TRIES = 3
# arq's default 0.5 s adds up to half a second before a job starts; 0.1 s costs ten cheap
# Redis calls a second and starts jobs within a tenth of one.
POLL_DELAY_S = 0.1
# Light tasks are answered while someone waits in the chat: look for them more often.
LIGHT_POLL_DELAY_S = 0.02
# A light task's answer waits this long in Redis for the bot to read it.
LIGHT_KEEP_RESULT_S = 120
# A light task is seconds of CPU; one still running after this is stuck.
LIGHT_TIMEOUT_S = 120
# How long a worker that lost Redis waits before it tries again.
RECONNECT_S = 1.0
LIGHT_CONTEXT_KEY = "clipcrew_light"
SWEEPER_KEY = "clipcrew_sweeper"


class WorkerNotStarted(RuntimeError):
    """A job ran in an arq worker whose on_startup never built the clipcrew context."""


def worker_context(ctx: dict[str, Any]) -> WorkerContext:
    """The typed context from arq's ctx, or WorkerNotStarted if on_startup did not run."""
    context = ctx.get(CONTEXT_KEY)
    if not isinstance(context, WorkerContext):
        raise WorkerNotStarted(
            "the arq worker has no clipcrew context: start it with engine.worker.worker_settings()"
        )
    return context


async def run_job_arq(ctx: dict[str, Any], job_id: str) -> None:
    """The arq job function registered as RUN_JOB."""
    context = worker_context(ctx)
    await run_job(context, job_id)


async def run_light_arq(ctx: dict[str, Any], task: str, payload: Payload) -> Payload:
    """The arq job function registered as RUN_LIGHT: one light task, its answer the result."""
    context = ctx.get(LIGHT_CONTEXT_KEY)
    if not isinstance(context, LightContext):
        raise WorkerNotStarted(
            "the arq worker has no light context: start it with light_worker_settings()"
        )
    return await run_task(context, task, payload)


def _arq_common(config: WorkerConfig) -> dict[str, Any]:
    if not config.redis.url:
        raise ValueError(
            "the worker process needs REDIS_URL; without it `clipcrew serve` runs jobs"
        )
    return {
        "redis_settings": RedisSettings.from_dsn(config.redis.url),
        "job_serializer": serialize,
        "job_deserializer": deserialize,
    }


def worker_settings(config: WorkerConfig) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker` (or `create_worker`): the render worker."""
    common = _arq_common(config)

    async def startup(ctx: dict[str, Any]) -> None:
        context = await build_context(config)
        ctx[CONTEXT_KEY] = context
        # Jobs whose worker stopped renewing its lease are taken over by whichever worker
        # sweeps first; the takeover is a fresh queue message.
        requeue = ArqQueue.from_url(config.redis.url or "", prefix=config.redis.prefix)
        ctx[SWEEPER_KEY] = (
            requeue,
            asyncio.create_task(
                run_sweeper(
                    context.db,
                    lambda job_id, attempt: requeue.enqueue(job_id, attempt=attempt),
                    context.events,
                ),
                name="lease-sweeper",
            ),
        )
        logger.info(
            "worker ready on queue %s at %s",
            queue_name(config.redis.prefix),
            redact_url(config.redis.url or ""),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        sweeper = ctx.pop(SWEEPER_KEY, None)
        if sweeper is not None:
            requeue, task = sweeper
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await requeue.close()
        context = ctx.pop(CONTEXT_KEY, None)
        if isinstance(context, WorkerContext):
            await close_context(context)

    return common | {
        "functions": [
            func(run_job_arq, name=RUN_JOB, max_tries=MAX_TRIES, timeout=config.job_timeout_s)
        ],
        "queue_name": queue_name(config.redis.prefix),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": config.concurrency,
        "job_timeout": config.job_timeout_s,
        "max_tries": MAX_TRIES,
        # Results live in storage. Keeping none also lets a job id be enqueued again once its
        # run has finished, as with the in-process queue.
        "keep_result": 0,
        "poll_delay": POLL_DELAY_S,
        # SIGTERM: take no new job, let the running one finish for this long, then hand it
        # back for another worker to take over (engine.jobs.hand_back).
        "job_completion_wait": config.grace_s,
    }


def light_context(config: WorkerConfig) -> LightContext:
    """A light worker's shared context; the face model loads on the first selfie."""
    return LightContext(
        db=connect(config.database_url),
        blobs=open_blobs(config.blobs),
        faces=FaceModels.from_config(config.faces),
        # Refits are signed again; /verify trusts what this deployment signs.
        signer=load_signer(config.provenance),
    )


def light_worker_settings(config: WorkerConfig) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker`: the light worker (`clipcrew worker --light`).
    No GPU and no video model; tasks are retried by whoever waits for them, not by arq."""
    common = _arq_common(config)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx[LIGHT_CONTEXT_KEY] = light_context(config)
        # The prompt check answers every /sora within a second, so its model loads before
        # the worker takes its first task (a prompt checked mid-load would wait seconds).
        await moderation_warm_up(torch_threads=1)
        context: LightContext = ctx[LIGHT_CONTEXT_KEY]
        try:
            # Selfie checks too: the first one should not wait for the face model to load.
            await context.faces.analyzer()
        except Exception as error:  # a misconfigured face model is reported, not fatal
            logger.warning("face model not loaded: %s", error)
        logger.info(
            "light worker ready on queue %s at %s",
            light_queue_name(config.redis.prefix),
            redact_url(config.redis.url or ""),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        context = ctx.pop(LIGHT_CONTEXT_KEY, None)
        if isinstance(context, LightContext):
            await context.db.close()

    return common | {
        "functions": [
            func(
                run_light_arq,
                name=RUN_LIGHT,
                max_tries=1,
                timeout=LIGHT_TIMEOUT_S,
                keep_result=LIGHT_KEEP_RESULT_S,
            )
        ],
        "queue_name": light_queue_name(config.redis.prefix),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": config.light_concurrency,
        "job_timeout": LIGHT_TIMEOUT_S,
        "keep_result": LIGHT_KEEP_RESULT_S,
        "poll_delay": LIGHT_POLL_DELAY_S,
        # Someone is waiting for each light task: finish them before stopping.
        "job_completion_wait": LIGHT_TIMEOUT_S,
    }


def run_worker(config: WorkerConfig, *, light: bool = False) -> None:
    """Run the worker until SIGINT/SIGTERM (`clipcrew worker [--light]`)."""
    settings = light_worker_settings(config) if light else worker_settings(config)
    asyncio.run(serve(settings))


async def serve(settings: dict[str, Any]) -> None:
    """Run arq's worker with `settings` until SIGINT/SIGTERM, through Redis outages.

    What on_startup builds (models, the database, the lease sweeper) is built once and kept:
    when Redis goes away arq's worker stops, and a new one is started over the same context
    once Redis answers again, so a restart of Redis never costs a model load or the process.
    SIGTERM lets running jobs finish for the grace period (job_completion_wait), then hands
    them back (engine.jobs.hand_back)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    shared: dict[str, Any] = {}
    await settings["on_startup"](shared)

    async def lend(ctx: dict[str, Any]) -> None:
        ctx.update(shared)

    each_run = settings | {"on_startup": lend, "on_shutdown": None}
    try:
        while not stopping.is_set():
            if not await _one_run(each_run, stopping):
                await asyncio.sleep(RECONNECT_S)
    finally:
        await settings["on_shutdown"](shared)


async def _one_run(settings: dict[str, Any], stopping: asyncio.Event) -> bool:
    """One arq worker until it stops; False when it stopped because Redis went away."""
    worker = create_worker(settings, handle_signals=False)
    worker.main_task = asyncio.create_task(worker.main())

    async def stop_on_signal() -> None:
        await stopping.wait()
        worker.handle_sig_wait_for_completion(signal.SIGTERM)

    stopper = asyncio.create_task(stop_on_signal())
    try:
        await worker.main_task
    except asyncio.CancelledError:
        if not stopping.is_set():
            raise
    except (RedisError, OSError) as error:
        # The jobs it is running go on (their events wait for Redis; engine.outcome.publish);
        # closing it would cancel them.
        logger.warning("lost Redis (%s); reconnecting", type(error).__name__)
        return False
    finally:
        stopper.cancel()
    with contextlib.suppress(RedisError, OSError):
        await worker.close()
    return True


async def run_worker_async(config: WorkerConfig, *, light: bool = False) -> None:
    """Run the arq worker inside the running event loop until cancelled (`clipcrew serve` with
    Redis). The caller owns signals; cancelling this task stops the worker and closes it."""
    settings = light_worker_settings(config) if light else worker_settings(config)
    worker = create_worker(settings, handle_signals=False)
    try:
        await worker.main()
    finally:
        # Cancels running jobs (arq reruns them later), then runs on_shutdown.
        await worker.close()

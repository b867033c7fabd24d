"""The `clipcrew worker` process: an arq worker that runs `engine.jobs.run_job` for job ids.

arq stays at this edge: its untyped `ctx` dict becomes a `WorkerContext` on the job function's
first line, and jobs travel as msgpack (`engine.queues.serialize`), never pickle. Models load
once in `on_startup` and stay resident for every job the process runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq.connections import RedisSettings
from arq.worker import create_worker, func

from clipcrew.settings import Settings
from engine.jobs import WorkerContext, build_context, close_context, run_job
from engine.queues import RUN_JOB, deserialize, queue_name, redact_url, serialize

__all__ = [
    "CONTEXT_KEY",
    "MAX_TRIES",
    "POLL_DELAY_S",
    "WorkerNotStarted",
    "run_job_arq",
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


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker` (or `create_worker`) from our settings."""
    if not settings.redis_url:
        raise ValueError(
            "the worker process needs REDIS_URL; without it `clipcrew serve` runs jobs"
        )

    async def startup(ctx: dict[str, Any]) -> None:
        ctx[CONTEXT_KEY] = await build_context(settings)
        logger.info(
            "worker ready on queue %s at %s",
            queue_name(settings.redis_prefix),
            redact_url(settings.redis_url or ""),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        context = ctx.pop(CONTEXT_KEY, None)
        if isinstance(context, WorkerContext):
            await close_context(context)

    return {
        "functions": [
            func(run_job_arq, name=RUN_JOB, max_tries=MAX_TRIES, timeout=settings.job_timeout_s)
        ],
        "queue_name": queue_name(settings.redis_prefix),
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "max_jobs": settings.worker_concurrency,
        "job_timeout": settings.job_timeout_s,
        "max_tries": MAX_TRIES,
        # Results live in storage. Keeping none also lets a job id be enqueued again once its
        # run has finished, as with the in-process queue.
        "keep_result": 0,
        "poll_delay": POLL_DELAY_S,
    }


def run_worker(settings: Settings) -> None:
    """Run the arq worker until SIGINT/SIGTERM (`clipcrew worker`)."""
    # arq's Worker takes the current event loop when it is built; give it a fresh one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        create_worker(worker_settings(settings)).run()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


async def run_worker_async(settings: Settings) -> None:
    """Run the arq worker inside the running event loop until cancelled (`clipcrew serve` with
    Redis). The caller owns signals; cancelling this task stops the worker and closes it."""
    worker = create_worker(worker_settings(settings), handle_signals=False)
    try:
        await worker.main()
    finally:
        # Cancels running jobs (arq reruns them later), then runs on_shutdown.
        await worker.close()

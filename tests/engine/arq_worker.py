"""The real arq worker as `clipcrew worker` configures it, run in burst mode on this test's
Redis prefix; and a bare one that runs a single job function the way engine.worker names and
encodes it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from arq.connections import RedisSettings, create_pool
from arq.worker import Worker, create_worker, func

from clipcrew.config import worker_config
from clipcrew.settings import Settings
from engine.context import WorkerContext
from engine.queue_backends import RUN_JOB, deserialize, queue_name, serialize
from engine.worker import CONTEXT_KEY, worker_settings
from tests.conftest import REDIS_URL


def make_settings(prefix: str, data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        REDIS_URL=REDIS_URL,
        CLIPCREW_REDIS_PREFIX=prefix,
        CLIPCREW_DATA_DIR=data_dir,
        CLIPCREW_JOB_TIMEOUT=30,
        CLIPCREW_WORKER_CONCURRENCY=2,
    )


async def run_burst(settings: Settings, context: WorkerContext) -> Worker:
    """The worker exactly as worker_settings() configures it, in burst mode, with a context
    built here instead of by on_startup (which loads the rendering backend)."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx[CONTEXT_KEY] = context

    worker = create_worker(
        worker_settings(worker_config(settings)),
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
        on_startup=startup,
        on_shutdown=None,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


async def job_worker(
    redis_url: str, prefix: str, job: Callable[..., Awaitable[Any]], **options: Any
) -> Worker:
    """A burst arq Worker that runs `job` as RUN_JOB from `prefix`'s queue with our msgpack
    serializer, keeping no results; `options` (max_jobs, log_results, ...) go to the Worker."""
    pool = await create_pool(
        RedisSettings.from_dsn(redis_url), job_serializer=serialize, job_deserializer=deserialize
    )
    return Worker(
        functions=[func(job, name=RUN_JOB)],
        burst=True,
        poll_delay=0.01,
        queue_name=queue_name(prefix),
        redis_pool=pool,
        job_serializer=serialize,
        job_deserializer=deserialize,
        keep_result=0,
        handle_signals=False,
        **options,
    )

"""The real arq worker as `clipcrew worker` configures it, run in burst mode on this test's
Redis prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arq.worker import Worker, create_worker

from clipcrew.config import worker_config
from clipcrew.settings import Settings
from engine.context import WorkerContext
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

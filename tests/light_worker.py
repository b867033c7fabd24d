"""A light worker for tests whose bot runs on Redis: the bot's prompt check (and any other
light task) is answered by it, as `clipcrew worker --light` answers in production."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from arq.worker import create_worker

from clipcrew.config import worker_config
from clipcrew.settings import Settings
from engine.light import ArqLight
from engine.moderation.task import warm_up
from engine.queue import MODERATE_TEXT
from engine.worker import light_worker_settings

# Loading the face model and the classifier takes seconds; more on a busy machine.
READY_TIMEOUT_S = 120.0


@contextlib.asynccontextmanager
async def light_worker(settings: Settings) -> AsyncIterator[None]:
    """Runs a light worker in this process while the block runs, once it answers: it loads
    its models before taking tasks, and a prompt checked before that would time out."""
    await warm_up()
    worker = create_worker(
        {**light_worker_settings(worker_config(settings)), "handle_signals": False}
    )
    running = asyncio.create_task(worker.async_run())
    try:
        assert settings.redis_url is not None
        ready = ArqLight.from_url(settings.redis_url, prefix=settings.redis_prefix)
        try:
            await ready.call(MODERATE_TEXT, {"texts": ["a cat"]}, timeout_s=READY_TIMEOUT_S)
        finally:
            await ready.close()
        yield
    finally:
        await worker.close()
        with contextlib.suppress(asyncio.CancelledError):
            await running

"""engine.worker: arq's settings for the `clipcrew worker` process, run by a real arq Worker."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Function, create_worker
from redis.asyncio import Redis

from clipcrew.config import worker_config
from clipcrew.settings import Settings
from engine.channels import RedisStreamEvents
from engine.context import WorkerContext
from engine.queue_backends import RUN_JOB, ArqQueue, deserialize, serialize
from engine.worker import (
    CONTEXT_KEY,
    MAX_TRIES,
    WorkerNotStarted,
    run_job_arq,
    run_worker_async,
    worker_context,
    worker_settings,
)
from storage.blobs import BlobStore
from storage.db import Database, connect
from storage.migrate import upgrade
from storage.models import Job, JobState
from tests.conftest import REDIS_URL, delete_keys
from tests.engine.arq_worker import make_settings, run_burst
from tests.factories import make_clip, make_job


@pytest.fixture
def settings(redis_prefix: str, tmp_path: Path) -> Settings:
    return make_settings(redis_prefix, tmp_path)


@pytest.fixture
async def redis_client(redis_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await delete_keys(client, redis_prefix)
    await client.aclose()


async def add_job(db: Database, job_id: str, *, state: JobState, with_clip: bool) -> int | None:
    """A job row (and, if asked, its finished clip); returns the clip id."""
    job = await make_job(db, id=job_id, state=state, prompt="a cat", fps=4, dialogue=[])
    return (await make_clip(db, job)).id if with_clip else None


async def test_settings_register_run_job_with_our_serializer(settings: Settings):
    # async: arq's Worker takes the running event loop (a sync test would leak a new one).
    kwargs = worker_settings(worker_config(settings))
    worker = create_worker(kwargs, handle_signals=False)
    function = worker.functions[RUN_JOB]
    assert isinstance(function, Function)
    assert function.coroutine is run_job_arq
    assert function.max_tries == MAX_TRIES == 3
    assert function.timeout_s == 30
    assert worker.queue_name == f"{settings.redis_prefix}:queue"
    assert (worker.job_serializer, worker.job_deserializer) == (serialize, deserialize)
    assert worker.max_jobs == 2
    assert worker.keep_result_s == 0
    assert kwargs["redis_settings"].host == "127.0.0.1"


def test_settings_need_a_redis_url(tmp_path: Path):
    settings = Settings(_env_file=None, REDIS_URL=None, CLIPCREW_DATA_DIR=tmp_path)
    with pytest.raises(ValueError, match="REDIS_URL"):
        worker_settings(worker_config(settings))


async def test_a_job_without_the_context_says_what_is_wrong():
    with pytest.raises(WorkerNotStarted, match="worker_settings"):
        await run_job_arq({"job_id": "x"}, "job-1")
    with pytest.raises(WorkerNotStarted):
        worker_context({CONTEXT_KEY: "not a context"})


@pytest.mark.redis
async def test_enqueued_job_runs_engine_jobs_and_its_event_reaches_the_bot(
    settings: Settings, sqlite_db: Database, blobs: BlobStore, redis_client: Redis
):
    # A job whose clip exists already: run_job reports it done again without rendering.
    clip_id = await add_job(sqlite_db, "job-1", state=JobState.DONE, with_clip=True)
    prefix = settings.redis_prefix
    sink = RedisStreamEvents.from_url(REDIS_URL, prefix=prefix, consumer="worker")
    bot = RedisStreamEvents.from_url(REDIS_URL, prefix=prefix, consumer="bot-a")
    context = WorkerContext(db=sqlite_db, blobs=blobs, events=sink, backend=None, owns_db=False)  # type: ignore[arg-type]
    queue = ArqQueue.from_url(REDIS_URL, prefix=prefix)
    try:
        assert await queue.enqueue("job-1") is True
        worker = await run_burst(settings, context)
        assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
        (delivered,) = await bot.read(block_ms=100)
        assert (delivered.event.job_id, delivered.event.kind) == ("job-1", "done")
        assert delivered.event.clip_id == clip_id
        # No result is kept, so the id is free again once its run has ended.
        assert await queue.enqueue("job-1") is True
    finally:
        await queue.close()
        await sink.close()
        await bot.close()


@pytest.mark.redis
async def test_turns_for_a_missing_or_cancelled_job_pass_and_nothing_runs_twice(
    settings: Settings, sqlite_db: Database, blobs: BlobStore, redis_client: Redis
):
    await add_job(sqlite_db, "cancelled", state=JobState.CANCELLED, with_clip=False)
    sink = RedisStreamEvents.from_url(REDIS_URL, prefix=settings.redis_prefix, consumer="worker")
    context = WorkerContext(db=sqlite_db, blobs=blobs, events=sink, backend=None, owns_db=False)  # type: ignore[arg-type]
    queue = ArqQueue.from_url(REDIS_URL, prefix=settings.redis_prefix)
    try:
        # Each message is a turn for the fairest queued job; with none queued, both pass.
        assert await queue.enqueue("no-such-job") is True
        assert await queue.enqueue("cancelled") is True  # not runnable: left alone
        worker = await run_burst(settings, context)
    finally:
        await queue.close()
        await sink.close()
    assert (worker.jobs_complete, worker.jobs_failed, worker.jobs_retried) == (2, 0, 0)
    async with sqlite_db.session() as session:
        job = await session.get(Job, "cancelled")
    assert job is not None and job.state is JobState.CANCELLED


@pytest.mark.redis
async def test_startup_builds_the_context_and_shutdown_closes_it(settings: Settings):
    kwargs = worker_settings(worker_config(settings))
    ctx: dict[str, Any] = {}
    await kwargs["on_startup"](ctx)
    assert isinstance(worker_context(ctx), WorkerContext)
    await kwargs["on_shutdown"](ctx)
    assert CONTEXT_KEY not in ctx


@pytest.mark.redis
async def test_run_worker_async_stops_when_cancelled(settings: Settings, redis_client: Redis):
    task = asyncio.create_task(run_worker_async(worker_config(settings)))
    health_key = f"{settings.redis_prefix}:queue:health-check"
    for _ in range(200):
        if await redis_client.exists(health_key):
            break
        await asyncio.sleep(0.05)
    assert await redis_client.exists(health_key), "the worker never reported healthy"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # close() ran: the worker removed its health key on the way out.
    assert not await redis_client.exists(health_key)


@pytest.mark.redis
async def test_a_queued_job_renders_through_the_real_startup(
    settings: Settings, redis_client: Redis
):
    # Everything real: on_startup builds the context (sketch backend, SQLite from settings,
    # blobs, Redis events), the job renders, and the bot reads started ... done off the stream.
    db = connect(settings.db_url)
    await upgrade(db)
    await add_job(db, "job-1", state=JobState.QUEUED, with_clip=False)
    prefix = settings.redis_prefix
    queue = ArqQueue.from_url(REDIS_URL, prefix=prefix)
    bot = RedisStreamEvents.from_url(REDIS_URL, prefix=prefix, consumer="bot-a")
    try:
        assert await queue.enqueue("job-1") is True
        worker = create_worker(
            worker_settings(worker_config(settings)),
            burst=True,
            poll_delay=0.01,
            handle_signals=False,
        )
        try:
            await asyncio.wait_for(worker.main(), 120)
        finally:
            await worker.close()
        assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
        kinds = [d.event.kind for d in await bot.read(block_ms=100, count=1000)]
        assert kinds[0] == "started" and kinds[-1] == "done", kinds
        async with db.session() as session:
            job = await session.get(Job, "job-1")
        assert job is not None and job.state is JobState.DONE
    finally:
        await queue.close()
        await bot.close()
        await db.close()


@pytest.mark.redis
async def test_run_worker_is_a_process_that_stops_on_sigterm(
    settings: Settings, redis_client: Redis
):
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "CLIPCREW_REDIS_PREFIX": settings.redis_prefix,
        "CLIPCREW_DATA_DIR": str(settings.data_dir),
    }
    code = "from clipcrew.settings import Settings; from engine.worker import run_worker; "
    code += "from clipcrew.config import worker_config; "
    code += "run_worker(worker_config(Settings(_env_file=None)))"
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", code, env=env)
    health_key = f"{settings.redis_prefix}:queue:health-check"
    try:
        for _ in range(400):
            if await redis_client.exists(health_key) or process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert await redis_client.exists(health_key), "the worker never reported healthy"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not await redis_client.exists(health_key)

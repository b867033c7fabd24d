"""Job queues behind `engine.queue.JobQueue`: arq over Redis, or an asyncio queue in-process.

Both carry only the job id; the job function reads everything else from storage. Both refuse a
second enqueue of an id that is still queued or running, so a double click cannot render twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgpack
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from engine.config import RedisConfig
from engine.queue import JobQueue, QueueClosed, QueueError, QueueUnavailable

__all__ = [
    "RUN_JOB",
    "ArqQueue",
    "InProcessQueue",
    "JobFunction",
    "QueueClosed",
    "QueueError",
    "QueueUnavailable",
    "arq_job_id",
    "deserialize",
    "make_queue",
    "queue_name",
    "redact_url",
    "serialize",
]

logger = logging.getLogger(__name__)

# The name the worker registers the job under; the enqueue side and the worker must agree.
RUN_JOB = "run_job"

JobFunction = Callable[[str], Awaitable[None]]


def queue_name(prefix: str) -> str:
    """The arq queue (a Redis sorted set) of the deployment that uses `prefix`."""
    return f"{prefix}:queue"


def arq_job_id(prefix: str, job_id: str, attempt: int = 0) -> str:
    """arq's `_job_id` for our job id. arq keys every job as `arq:job:<id>` whatever the queue, so
    the prefix goes into the id: deployments (and tests) sharing one Redis never collide. A
    takeover (`attempt` > 0) gets an id of its own: the lost run's is still marked in progress."""
    return f"{prefix}:{job_id}" + (f":{attempt}" if attempt else "")


def _plain(value: object) -> str:
    # arq serializes a failed job's exception as its result; keep its text rather than fail.
    return f"{type(value).__name__}: {value}"


def serialize(obj: Any) -> bytes:
    """The job serializer on both sides of arq: msgpack, never pickle (a job key must not be
    able to run code in the worker)."""
    packed: bytes = msgpack.packb(obj, default=_plain, use_bin_type=True)
    return packed


def deserialize(raw: bytes) -> Any:
    return msgpack.unpackb(raw, raw=False)


def redact_url(url: str) -> str:
    """`url` without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class ArqQueue:
    """Enqueues `run_job(job_id)` for an arq worker (`engine.worker`) on the same Redis."""

    def __init__(self, pool: ArqRedis, *, prefix: str, where: str = "redis") -> None:
        self._pool = pool
        self._prefix = prefix
        # Shown in errors instead of the URL, which may carry a password.
        self._where = where
        self._closed = False
        # The serializer is set here, not trusted from the caller: arq's default is pickle.
        pool.job_serializer = serialize
        pool.job_deserializer = deserialize
        pool.default_queue_name = queue_name(prefix)

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> ArqQueue:
        """A queue on the Redis at `url`. Connects lazily, so this needs no running event loop."""
        return cls(ArqRedis.from_url(url), prefix=prefix, where=redact_url(url))

    @property
    def name(self) -> str:
        return queue_name(self._prefix)

    async def enqueue(self, job_id: str, *, attempt: int = 0) -> bool:
        _check_job_id(job_id)
        if self._closed:
            raise QueueClosed(f"cannot enqueue job {job_id}: the queue is closed")
        try:
            job = await self._pool.enqueue_job(
                RUN_JOB,
                job_id,
                _job_id=arq_job_id(self._prefix, job_id, attempt),
                _queue_name=self.name,
            )
        except RedisError as error:
            raise QueueUnavailable(
                f"cannot enqueue job {job_id}: the job queue at {self._where} is unreachable"
                f" ({type(error).__name__})"
            ) from error
        # arq answers None when a job with this id is already queued or running.
        return job is not None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.aclose()


class InProcessQueue:
    """The embedded queue: `concurrency` tasks run `job_function(job_id)` in this process.

    Jobs still queued when the process stops are lost here (their rows stay queued in
    storage); with arq they wait in Redis for the next worker.
    """

    def __init__(
        self, job_function: JobFunction, *, concurrency: int = 1, timeout_s: float | None = None
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self._job_function = job_function
        self._concurrency = concurrency
        self._timeout_s = timeout_s
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        # Ids queued or running: the duplicate check, like arq's job key.
        self._active: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def enqueue(self, job_id: str, *, attempt: int = 0) -> bool:
        _check_job_id(job_id)
        if self._closed:
            raise QueueClosed(f"cannot enqueue job {job_id}: the queue is closed")
        if job_id in self._active:
            return False
        self._start()
        self._active.add(job_id)
        self._queue.put_nowait(job_id)
        return True

    async def join(self) -> None:
        """Wait until every queued job has finished (for tests and orderly shutdown)."""
        await self._queue.join()

    async def close(self) -> None:
        """Stop the worker tasks; a running job is cancelled, queued ones are dropped."""
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _start(self) -> None:
        # Started on the first enqueue, because tasks need the running loop.
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._work(), name=f"clipcrew-inprocess-worker-{number}")
            for number in range(self._concurrency)
        ]

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            try:
                await self._run(job_id)
            finally:
                self._active.discard(job_id)
                self._queue.task_done()

    async def _run(self, job_id: str) -> None:
        deadline = asyncio.timeout(self._timeout_s)
        try:
            async with deadline:
                await self._job_function(job_id)
        except Exception:
            # One failing job must not take the worker task down with it.
            if deadline.expired():
                message = f"in-process job %s timed out after {self._timeout_s}s"
                logger.error(message, job_id, extra={"job_id": job_id})
            else:
                logger.exception("in-process job %s failed", job_id, extra={"job_id": job_id})


def _check_job_id(job_id: str) -> None:
    if not isinstance(job_id, str) or not job_id:
        raise ValueError(f"a job id is a non-empty string, not {job_id!r}")


def make_queue(
    redis: RedisConfig,
    job_function: JobFunction | None,
    *,
    concurrency: int = 1,
    timeout_s: float | None = None,
) -> JobQueue:
    """arq when `redis.url` is set (an arq worker, `engine.worker`, runs the jobs, so
    `job_function` may be None), else the in-process queue running `job_function` here."""
    if redis.url:
        return ArqQueue.from_url(redis.url, prefix=redis.prefix)
    if job_function is None:
        raise ValueError("without REDIS_URL the jobs run in this process: pass a job function")
    return InProcessQueue(job_function, concurrency=concurrency, timeout_s=timeout_s)

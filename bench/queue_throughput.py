"""Queue throughput on a real Redis: no-op jobs per second through arq.

    .venv/bin/python bench/queue_throughput.py [--jobs 2000] [--redis redis://127.0.0.1:6379/0]

Each measurement enqueues `--jobs` job ids through `engine.queues.ArqQueue`, then times one
burst `arq.worker.Worker` (poll_delay 0.01, our msgpack serializer) draining them. Every
measurement is an entry in MEASUREMENTS; the first is the baseline and each other one is printed
beside it as a ratio, so an end-to-end variant (arq + events + delivery through the bot core)
is one more function appended there.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from arq.connections import RedisSettings, create_pool
from arq.worker import Worker, func
from redis.asyncio import Redis

from engine.queues import RUN_JOB, ArqQueue, deserialize, queue_name, redact_url, serialize


@dataclass(frozen=True)
class Options:
    jobs: int
    redis_url: str
    max_jobs: int


@dataclass(frozen=True)
class Result:
    name: str
    jobs: int
    enqueue_s: float
    run_s: float

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.run_s if self.run_s else float("inf")


Measurement = Callable[[Options, str], Awaitable[Result]]


async def _enqueue_all(options: Options, prefix: str) -> float:
    queue = ArqQueue.from_url(options.redis_url, prefix=prefix)
    started = time.perf_counter()
    try:
        for number in range(options.jobs):
            if not await queue.enqueue(f"job-{number}"):
                raise RuntimeError(f"job-{number} was refused as a duplicate")
    finally:
        await queue.close()
    return time.perf_counter() - started


async def _drain(options: Options, prefix: str, job: Callable[..., Awaitable[Any]]) -> float:
    pool = await create_pool(
        RedisSettings.from_dsn(options.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    worker = Worker(
        functions=[func(job, name=RUN_JOB)],
        burst=True,
        poll_delay=0.01,
        queue_name=queue_name(prefix),
        redis_pool=pool,
        job_serializer=serialize,
        job_deserializer=deserialize,
        keep_result=0,
        max_jobs=options.max_jobs,
        handle_signals=False,
        log_results=False,
    )
    started = time.perf_counter()
    try:
        await worker.main()
    finally:
        elapsed = time.perf_counter() - started
        await worker.close()
    if worker.jobs_complete != options.jobs:
        raise RuntimeError(f"{worker.jobs_complete} of {options.jobs} jobs completed")
    return elapsed


async def bare_arq(options: Options, prefix: str) -> Result:
    """The ceiling: arq alone, running a job function that does nothing."""

    async def no_op(ctx: dict[str, Any], job_id: str) -> None:
        return None

    enqueue_s = await _enqueue_all(options, prefix)
    run_s = await _drain(options, prefix, no_op)
    return Result("bare arq (no-op job)", options.jobs, enqueue_s, run_s)


# The first entry is the baseline the others are compared with.
MEASUREMENTS: list[Measurement] = [bare_arq]


async def _delete_keys(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        for pattern in (f"{prefix}*", f"arq:*:{prefix}:*"):
            keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
            if keys:
                await client.delete(*keys)
    finally:
        await client.aclose()


async def run_all(options: Options) -> list[Result]:
    results = []
    for measure in MEASUREMENTS:
        prefix = f"clipcrew-bench-{uuid.uuid4().hex[:8]}"
        try:
            results.append(await measure(options, prefix))
        finally:
            await _delete_keys(options.redis_url, prefix)
    return results


def report(results: list[Result]) -> str:
    baseline = results[0].jobs_per_s
    lines = [f"{'measurement':<32}{'jobs':>7}{'enqueue/s':>11}{'run jobs/s':>12}{'ratio':>8}"]
    for result in results:
        lines.append(
            f"{result.name:<32}{result.jobs:>7}{result.jobs / result.enqueue_s:>11.0f}"
            f"{result.jobs_per_s:>12.0f}{result.jobs_per_s / baseline:>8.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", dest="redis_url")
    parser.add_argument("--max-jobs", type=int, default=10, help="arq Worker max_jobs")
    options = Options(**vars(parser.parse_args()))
    print(
        f"redis {redact_url(options.redis_url)}, {options.jobs} jobs, max_jobs {options.max_jobs}"
    )
    print(report(asyncio.run(run_all(options))))


if __name__ == "__main__":
    main()

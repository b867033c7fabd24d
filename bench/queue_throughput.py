"""Queue throughput on a real Redis: no-op jobs per second through arq.

    .venv/bin/python bench/queue_throughput.py [--jobs 2000] [--redis redis://127.0.0.1:6379/0]

Each measurement enqueues `--jobs` job ids through `engine.queue_backends.ArqQueue`, then times one
burst `arq.worker.Worker` (poll_delay 0.01, our msgpack serializer) draining them. Every
measurement is an entry in MEASUREMENTS; the first is the baseline and each other one is printed
beside it as a ratio.

`end_to_end` is the real path minus the render: `Core.handle` records each `/sora` command
(distinct people, so no quota refuses) and enqueues it through ArqQueue; the same burst worker
runs a no-op render (claim, a few-byte clip blob and row, DONE, events on the Redis stream);
`Core.run_events` posts every clip through a recording port. Its run time lasts until the last
clip is posted. Bot and worker share one process and event loop, as `clipcrew serve` runs them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The shared burst worker and no-op render live with the tests, at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arq.worker import create_worker
from redis.asyncio import Redis

from bot.commands import Generate
from bot.ports import Capabilities, Notice
from bot.replies import ClipReady, Queued
from bot.service import Core
from bot.types import ChatRef, ChatUser, MessageRef
from clipcrew.app import start_services, stop_services
from clipcrew.config import worker_config
from clipcrew.settings import Settings
from engine.backends import load_backend
from engine.channels import RedisStreamEvents
from engine.context import WorkerContext
from engine.jobs import run_job
from engine.moderation.task import warm_up
from engine.queue import MODERATE_TEXT
from engine.queue_backends import ArqQueue, redact_url
from engine.worker import light_worker_settings
from tests.engine.arq_worker import job_worker
from tests.engine.harness import no_op_render

GOAL_RATIO = 0.3
# Commands handled at once in the end-to-end run: a busy group chat, not all N in one go.
COMMANDS_IN_FLIGHT = 100


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


async def _drain(
    options: Options,
    prefix: str,
    job: Callable[..., Awaitable[Any]],
    *,
    settled: Callable[[], Awaitable[Any]] | None = None,
) -> float:
    """Seconds for one burst worker to run every queued job, and then for `settled` (if any)."""
    worker = await job_worker(
        options.redis_url, prefix, job, max_jobs=options.max_jobs, log_results=False
    )
    started = time.perf_counter()
    try:
        await worker.main()
        if settled is not None:
            await settled()
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


class DeliveryPort:
    """A chat port that posts nowhere and counts clips; `all_delivered` is set at the last."""

    platform = "bench"
    capabilities = Capabilities()

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.clips = 0
        self.all_delivered = asyncio.Event()
        self._messages = 0

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        self._messages += 1
        return MessageRef(chat, f"s{self._messages}")

    async def edit(self, message: MessageRef, reply: Notice) -> None: ...

    async def delete(self, message: MessageRef) -> None: ...

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        self.clips += 1
        if self.clips >= self.expected:
            self.all_delivered.set()
        return MessageRef(chat, f"c{self.clips}")


def real_job_function(context: WorkerContext) -> Callable[..., Awaitable[None]]:
    """arq's job function calling the real `engine.jobs.run_job`."""

    async def run(ctx: dict[str, Any], job_id: str) -> None:
        await run_job(context, job_id)

    return run


async def _handle_all(core: Core, jobs: int) -> float:
    """Seconds for `Core.handle` to answer `jobs` commands (record, post status, enqueue)."""
    chat = ChatRef("bench", "room")
    in_flight = asyncio.Semaphore(COMMANDS_IN_FLIGHT)

    async def command(number: int) -> None:
        author = ChatUser("bench", f"user{number}", f"User {number}")
        message = MessageRef(chat, f"m{number}")
        async with in_flight:
            reply = await core.handle(
                Generate(prompt=f"a cat number {number}", author=author, chat=chat, message=message)
            )
        if not isinstance(reply, Queued):
            raise RuntimeError(f"command {number} was answered {reply!r}, not queued")

    started = time.perf_counter()
    await asyncio.gather(*(command(number) for number in range(jobs)))
    return time.perf_counter() - started


async def end_to_end(options: Options, prefix: str) -> Result:
    """The real path minus rendering, from worker start until the last clip is posted."""
    with tempfile.TemporaryDirectory(prefix="clipcrew-bench-") as folder:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            CLIPCREW_DATA_DIR=folder,
            REDIS_URL=options.redis_url,
            CLIPCREW_REDIS_PREFIX=prefix,
        )
        port = DeliveryPort(options.jobs)
        services = await start_services(settings, local_chat=False, worker=False, ports=[port])
        # The worker's own connection to the stream, as a worker process would have.
        sink = RedisStreamEvents.from_url(options.redis_url, prefix=prefix, consumer="bench")
        try:
            # Each command's prompt check is a light task: a light worker answers it.
            await warm_up()
            light = create_worker(
                {**light_worker_settings(worker_config(settings)), "handle_signals": False}
            )
            lighting = asyncio.create_task(light.async_run())
            try:
                # It loads its models before taking tasks: wait until it answers.
                assert services.core.deps.light is not None
                await services.core.deps.light.call(
                    MODERATE_TEXT, {"texts": ["a cat"]}, timeout_s=120
                )
                enqueue_s = await _handle_all(services.core, options.jobs)
            finally:
                await light.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await lighting

            async def delivered() -> None:
                async with asyncio.timeout(60 + options.jobs / 10):
                    await port.all_delivered.wait()

            context = WorkerContext(
                db=services.db,
                blobs=services.blobs,
                events=sink,
                backend=load_backend("sketch"),
                render=no_op_render,
                owns_db=False,
            )
            job = real_job_function(context)
            run_s = await _drain(options, prefix, job, settled=delivered)
        finally:
            await sink.close()
            await stop_services(services)
    return Result("end-to-end (no-op render)", options.jobs, enqueue_s, run_s)


# The first entry is the baseline the others are compared with.
MEASUREMENTS: list[Measurement] = [bare_arq, end_to_end]


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
    for result in results[1:]:
        lines.append(
            f"{result.name} {result.jobs_per_s:.0f} jobs/s vs {results[0].name}"
            f" {baseline:.0f} jobs/s: ratio {result.jobs_per_s / baseline:.2f}"
            f" (goal >= {GOAL_RATIO})"
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

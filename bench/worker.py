"""Five back-to-back jobs through the real worker code on a tiny Wan: model loads, and how busy
the model is.

    .venv/bin/python bench/worker.py [--jobs 5] [--concurrency 2]

A tiny random-weight Wan pipeline is built offline into a temporary folder (the tests' own
`build_tiny_wan`) and loaded the way a worker loads it: settings with CLIPCREW_ENGINE=diffusers
and CLIPCREW_VIDEO_MODEL=<folder>, `build_context(settings)` once, a temporary SQLite database
brought to the current schema. Job rows are 64x64, 9 frames at 16 fps (Wan makes 4k+1 frames)
with one line of dialogue, at the family's default steps, and each is run by
`engine.jobs.run_job`: render, sound, watermark, encode, store, events.

One warm-up job runs first (lazy imports, first torch kernels) and is left out of the figures.
Then `--jobs` fresh jobs run one after another, and `--jobs` more run `--concurrency` at a time
(asyncio.gather under a semaphore, as CLIPCREW_WORKER_CONCURRENCY does): the backend's device
lock lets one job denoise while the one before it does its CPU work.

Loads are counted at `DiffusionPipeline.from_pretrained` (goal 1). Busy is the time spent in
the backend's denoising call (`DiffusersBackend._denoise`, the only code that runs the model)
over the wall time from the first job's start to the last one's end (goal 95 % or more on a
GPU; on this CPU everything shares the same cores, so the figure is only what the CPU gives).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The tiny pipeline builder lives with the tests, which sit beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from diffusers import DiffusionPipeline
from diffusers.utils import logging as diffusers_logging
from sqlmodel import select
from transformers.utils import logging as transformers_logging

from clipcrew.settings import Settings
from engine.context import WorkerContext, build_context, close_context
from engine.jobs import run_job
from storage.migrate import upgrade
from storage.models import Job, JobState
from tests.engine.diffusion.tiny import build_tiny_wan
from tests.factories import make_job

GOAL_LOADS = 1
GOAL_BUSY = 0.95
# 9 frames at 16 fps: round(duration_s * fps) == 9, a 4k+1 count Wan accepts.
FPS, FRAMES, SIDE = 16, 9, 64


class LoadCounter:
    """Counts `DiffusionPipeline.from_pretrained` calls while installed."""

    def __init__(self) -> None:
        self.loads = 0
        self._original = DiffusionPipeline.__dict__["from_pretrained"]

    def __enter__(self) -> LoadCounter:
        original = self._original.__func__

        def counted(cls: type, *args: Any, **kwargs: Any) -> Any:
            self.loads += 1
            return original(cls, *args, **kwargs)

        DiffusionPipeline.from_pretrained = classmethod(counted)  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        DiffusionPipeline.from_pretrained = self._original  # type: ignore[method-assign]


class DenoiseTimer:
    """Wraps one backend's `_denoise` and keeps each call's (start, end)."""

    def __init__(self, backend: Any) -> None:
        self.spans: list[tuple[float, float]] = []
        denoise = backend._denoise

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return denoise(*args, **kwargs)
            finally:
                self.spans.append((start, time.perf_counter()))

        backend._denoise = timed

    def busy_s(self, start: float, end: float) -> float:
        """Seconds of denoising between `start` and `end` (the device lock keeps calls apart)."""
        return sum(min(b, end) - max(a, start) for a, b in self.spans if b > start and a < end)


@dataclass(frozen=True)
class Result:
    name: str
    jobs: int
    done: int
    wall_s: float
    busy_s: float

    @property
    def busy(self) -> float:
        return self.busy_s / self.wall_s


async def make_jobs(ctx: WorkerContext, count: int, first_seed: int) -> list[str]:
    jobs = [
        await make_job(
            ctx.db,
            prompt='a cat in space says "hello"',
            dialogue=[{"text": "hello", "speaker": None}],
            seed=first_seed + number,
            engine="diffusers",
            duration_s=FRAMES / FPS,
            width=SIDE,
            height=SIDE,
            fps=FPS,
        )
        for number in range(count)
    ]
    return [job.id for job in jobs]


async def count_done(ctx: WorkerContext, job_ids: list[str]) -> int:
    async with ctx.db.session() as session:
        rows = (await session.exec(select(Job).where(Job.id.in_(job_ids)))).all()  # type: ignore[attr-defined]
    return sum(row.state is JobState.DONE for row in rows)


async def run_batch(
    ctx: WorkerContext, timer: DenoiseTimer, name: str, job_ids: list[str], concurrency: int
) -> Result:
    slots = asyncio.Semaphore(concurrency)

    async def one(job_id: str) -> None:
        async with slots:
            await run_job(ctx, job_id)

    start = time.perf_counter()
    if concurrency == 1:
        for job_id in job_ids:
            await run_job(ctx, job_id)
    else:
        await asyncio.gather(*(one(job_id) for job_id in job_ids))
    end = time.perf_counter()
    done = await count_done(ctx, job_ids)
    return Result(name, len(job_ids), done, end - start, timer.busy_s(start, end))


async def bench(jobs: int, concurrency: int, root: Path) -> tuple[int, float, list[Result]]:
    model = build_tiny_wan(root / "model")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        CLIPCREW_DATA_DIR=root / "data",
        CLIPCREW_ENGINE="diffusers",
        CLIPCREW_VIDEO_MODEL=str(model),
        REDIS_URL=None,
        DATABASE_URL=None,
    )
    with LoadCounter() as counter:
        started = time.perf_counter()
        ctx = await build_context(settings)
        load_s = time.perf_counter() - started
        try:
            await upgrade(ctx.db)
            timer = DenoiseTimer(ctx.backend)
            warm = await run_batch(ctx, timer, "warm-up", await make_jobs(ctx, 1, 0), 1)
            if warm.done != 1:
                raise RuntimeError("the warm-up job did not finish: see the log above")
            results = [
                await run_batch(ctx, timer, "one at a time", await make_jobs(ctx, jobs, 100), 1),
                await run_batch(
                    ctx,
                    timer,
                    f"{concurrency} at a time",
                    await make_jobs(ctx, jobs, 200),
                    concurrency,
                ),
            ]
        finally:
            await close_context(ctx)
    return counter.loads, load_s, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    print(
        f"tiny Wan, {options.jobs} jobs of {FRAMES} frames {SIDE}x{SIDE} at {FPS} fps, "
        f"default steps, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="clipcrew-bench-") as root:
        loads, load_s, results = asyncio.run(bench(options.jobs, options.concurrency, Path(root)))
    print(f"{'run':<16}{'jobs done':>10}{'wall s':>9}{'denoise s':>11}{'busy':>8}")
    for result in results:
        print(
            f"{result.name:<16}{f'{result.done}/{result.jobs}':>10}{result.wall_s:>9.2f}"
            f"{result.busy_s:>11.2f}{result.busy:>8.1%}"
        )
    print(f"model load  {load_s:.2f} s in build_context")
    verdict = "meets" if loads <= GOAL_LOADS else "misses"
    print(f"loads       {loads} (goal {GOAL_LOADS}) {verdict} the goal")
    for result in results:
        verdict = "meets" if result.busy >= GOAL_BUSY else "misses"
        print(
            f"busy        {result.busy:.1%} {result.name} (goal >= {GOAL_BUSY:.0%} on a GPU; "
            f"this CPU {verdict} it)"
        )
    print(
        "on a CPU, denoising and encoding share the same cores: overlapping jobs can raise the "
        "busy figure by slowing denoising, so compare wall s too"
    )


if __name__ == "__main__":
    main()

"""How long the sketch engine takes for one clip, stage by stage, through `generate()`.

    .venv/bin/python bench/sketch_render.py [--runs 5] [--size 512] [--seconds 5] [--fps 24]

Each run renders a clip with two lines of dialogue (so speech is synthesized too) and times
the stages from the pipeline's own progress callback. The first run also pays for imports'
lazy work and font loading, so it is reported on its own line and left out of the medians.
The goal is a 5 s 512x512 clip in 2 s or less on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from engine.backends import load_backend
from engine.pipeline import generate
from engine.request import Line, RenderRequest, StageProgress

GOAL_S = 2.0
STAGES = ("rendering", "sound", "watermark", "encoding")


def _clocks() -> tuple[float, float]:
    """Wall seconds and CPU seconds of this process (all its threads, x264's included)."""
    return time.perf_counter(), time.process_time()


def timed_run(request: RenderRequest) -> tuple[dict[str, tuple[float, float]], int]:
    """(wall, CPU) seconds per stage and the clip's size, from when each stage first and last
    reports progress."""
    first: dict[str, tuple[float, float]] = {}
    last: dict[str, tuple[float, float]] = {}

    def note(progress: StageProgress) -> None:
        now = _clocks()
        first.setdefault(progress.stage, now)
        last[progress.stage] = now

    start = _clocks()
    clip = generate(request, load_backend("sketch"), on_progress=note)
    end = _clocks()
    # "sound" reports as it starts and as it ends, "watermark" once when done, and encoding
    # starts straight after it.
    edges = {
        "rendering": (start, first["sound"]),
        "sound": (first["sound"], last["sound"]),
        "watermark": (last["sound"], last["watermark"]),
        "encoding": (last["watermark"], end),
        "total": (start, end),
    }
    times = {stage: (b[0] - a[0], b[1] - a[1]) for stage, (a, b) in edges.items()}
    return times, clip.size_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--fps", type=int, default=24)
    options = parser.parse_args()
    request = RenderRequest(
        prompt="a cat in space finds the last slice of pizza",
        seed=42,
        width=options.size,
        height=options.size,
        fps=options.fps,
        duration_s=options.seconds,
        dialogue=(Line("Is that the last slice?", "Cat"), Line("Not any more.", "Dog")),
        author="bench",
        job_id="bench",
    )
    print(
        f"{options.seconds:g} s {options.size}x{options.size} at {options.fps} fps, "
        f"{os.cpu_count()} CPUs, {options.runs} runs after one warm-up"
    )
    cold, size = timed_run(request)
    runs = [timed_run(request)[0] for _ in range(options.runs)]
    print(f"{'stage':<12}{'median s':>10}{'min s':>10}{'CPU s':>10}")
    for stage in (*STAGES, "total"):
        walls = [run[stage][0] for run in runs]
        cpu = statistics.median(run[stage][1] for run in runs)
        print(f"{stage:<12}{statistics.median(walls):>10.3f}{min(walls):>10.3f}{cpu:>10.3f}")
    total = statistics.median(run["total"][0] for run in runs)
    print(f"first run   {cold['total'][0]:>10.3f}  (cold)")
    print(f"clip size   {size:,} bytes")
    print(f"load avg    {os.getloadavg()[0]:>10.2f}  (other work on this machine slows wall time)")
    verdict = "meets" if total <= GOAL_S else "misses"
    print(f"goal        {GOAL_S:>10.3f}  median total {total:.3f} s {verdict} the goal")


if __name__ == "__main__":
    main()

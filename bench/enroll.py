"""How long selfie-clip verification takes for a 5 s, 30 fps clip, with real dlib.

    .venv/bin/python bench/enroll.py [--runs 5] [--seconds 5] [--fps 30]

The clip is the tests' synthesized head turn (the astronaut photo, 512x512, on a cylinder
turned from -30 to +30 degrees). Frame sampling (decode and pick) is timed on its own too,
since it is the part that grows with the clip's length; the face work grows with the number
of sampled frames only. The first run pays for lazy loading and is left out of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# The head-turn clip is made by the tests' own helpers, which sit beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.faces.dlib_backend import DlibAnalyzer
from engine.faces.enrollment import EnrollmentLimits, verify_selfie
from engine.faces.video import sample_frames
from tests.engine.faces import clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--fps", type=int, default=30)
    options = parser.parse_args()
    limits = EnrollmentLimits()
    clip = clips.head_turn(seconds=options.seconds, fps=options.fps)
    analyzer = DlibAnalyzer.load()
    print(
        f"{options.seconds:g} s 512x512 at {options.fps} fps ({len(clip):,} bytes), "
        f"{limits.sample_frames} sampled frames, {os.cpu_count()} CPUs, {options.runs} runs"
    )
    enrollment = verify_selfie(clip, analyzer)
    totals, sampling = [], []
    for _ in range(options.runs):
        start = time.perf_counter()
        sample_frames(clip, count=limits.sample_frames, max_seconds=limits.max_seconds)
        sampling.append(time.perf_counter() - start)
        start = time.perf_counter()
        verify_selfie(clip, analyzer)
        totals.append(time.perf_counter() - start)
    print(f"sampling    median {statistics.median(sampling):.3f} s  min {min(sampling):.3f} s")
    print(f"verify      median {statistics.median(totals):.3f} s  min {min(totals):.3f} s")
    low, high = enrollment.yaw_range
    print(f"accepted    yaw {low:.1f}..{high:.1f} deg, planar error {enrollment.planar_error:.3f}")
    print(f"load avg    {os.getloadavg()[0]:.2f}  (other work on this machine slows wall time)")


if __name__ == "__main__":
    main()

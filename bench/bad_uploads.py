"""How fast, and in how much memory, each bad selfie upload is refused.

    .venv/bin/python bench/bad_uploads.py [--unbounded]

Each case of tests/fuzz/test_uploads.py is sampled the way the selfie check does, in a fresh
process, which prints the seconds it took and its peak resident memory. `--unbounded` also
decodes the 16000x16000 claim with no frame limit, as engine.faces.video did before it had one
(on a 2-core machine: about 4.2 GB and two minutes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The cases are made by the tests' own helpers, which sit beside this folder.
sys.path.insert(0, str(ROOT))

from tests.fuzz.test_uploads import CASES  # noqa: E402

_CHILD = """
import resource, sys, time
from engine.faces.video import sample_frames
data = sys.stdin.buffer.read()
limit = int(sys.argv[1])
started = time.perf_counter()
try:
    sample_frames(data, count=10, max_seconds=15, max_pixels=limit)
    outcome = "read"
except Exception as error:
    outcome = type(error).__name__
seconds = time.perf_counter() - started
print(outcome, f"{seconds:.3f}", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def measure(data: bytes, max_pixels: int) -> tuple[str, float, int]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(max_pixels)],
        input=data,
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    outcome, seconds, peak_mb = done.stdout.decode().split()
    return outcome, float(seconds), int(peak_mb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unbounded", action="store_true", help="also decode with no limit")
    options = parser.parse_args()
    from engine.faces.video import MAX_PIXELS

    print(f"{'case':38} {'outcome':16} {'seconds':>8} {'peak MB':>8}")
    for name, (build, _) in CASES.items():
        outcome, seconds, peak = measure(build(), MAX_PIXELS)
        print(f"{name:38} {outcome:16} {seconds:8.3f} {peak:8d}")
    if options.unbounded:
        build, _ = CASES["16000x16000 in the MP4"]
        outcome, seconds, peak = measure(build(), 2**31 - 1)
        print(f"{'16000x16000, no frame limit':38} {outcome:16} {seconds:8.3f} {peak:8d}")


if __name__ == "__main__":
    main()

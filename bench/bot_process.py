"""Bot process: start time (launch → "clipcrew is up") and resident memory, and which heavy
modules it loaded (torch must never be among them).

    .venv/bin/python bench/bot_process.py [--runs 3]

Measures `clipcrew bot` with REDIS_URL set (the production shape: jobs go to workers) and
`clipcrew serve` on embedded defaults (the worker runs in the same process).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("torch", "diffusers", "transformers", "insightface", "onnxruntime", "cv2")
GOAL_START_S, GOAL_RSS_MB = 1.0, 150.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def loaded_heavy(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in HEAVY if f"/{name}/" in maps or f"/{name}." in maps]


def one_run(command: str, env: dict[str, str]) -> tuple[float, float, list[str]]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "clipcrew.cli", "--log-level", "WARNING", command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "clipcrew is up" in line:
                break
        else:
            raise RuntimeError(f"clipcrew {command} exited before it was up")
        elapsed = time.perf_counter() - started
        time.sleep(0.3)  # let start-up allocations settle before reading memory
        return elapsed, rss_mb(process.pid), loaded_heavy(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    for label, command, redis in (
        ("bot + Redis", "bot", args.redis),
        ("serve, embedded", "serve", None),
    ):
        # The first start creates the database (alembic runs); every later one, the usual
        # restart, finds it up to date. Both are reported.
        firsts, restarts, rss, heavy = [], [], [], set()
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
                env.update(
                    CLIPCREW_DATA_DIR=folder,
                    CLIPCREW_LOCAL_CHAT=f"127.0.0.1:{free_port()}",
                    CLIPCREW_REDIS_PREFIX=f"bench-{os.getpid()}",
                )
                if redis:
                    env["REDIS_URL"] = redis
                for attempt in range(2):
                    s, r, h = one_run(command, env)
                    (firsts if attempt == 0 else restarts).append(s)
                    rss.append(r)
                    heavy.update(h)
        print(
            f"{label:16} restart {statistics.median(restarts):.2f} s "
            f"(first start {statistics.median(firsts):.2f} s), "
            f"RSS {statistics.median(rss):.0f} MB; heavy modules loaded: "
            f"{sorted(heavy) or 'none'} (goal < {GOAL_START_S:.0f} s, < {GOAL_RSS_MB:.0f} MB)"
        )


if __name__ == "__main__":
    main()

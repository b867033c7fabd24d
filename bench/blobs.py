"""What shared blob storage costs: store and read a clip in the local folder and in an S3 bucket.

    .venv/bin/python bench/blobs.py [--mb 4] [--runs 10]

The S3 side is moto's server on loopback (the dev extra), started here in a process of its
own, so the figures are the client's and the protocol's cost without a network in between: a
real bucket adds the round trips and the bandwidth of the link. Each run stores fresh bytes (a
content-addressed store would otherwise find them already there), reads them back, and stores
them once more (an idempotent put: a HEAD, no upload). It also reports what importing the S3
client and opening a store add to a process, since the light bot process pays that when
CLIPCREW_BLOB_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.blob_stores import open_blobs
from storage.blobs import BlobConfig, Blobs
from tests.s3_server import free_port


def start_moto(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto server did not start within 30 s")


async def runs(store: Blobs, size: int, count: int) -> dict[str, list[float]]:
    walls: dict[str, list[float]] = {"put": [], "read": [], "put again": []}
    for _ in range(count):
        data = os.urandom(size)
        start = time.perf_counter()
        key = await store.put(data, "mp4")
        stored = time.perf_counter()
        assert await store.read(key) == data
        read = time.perf_counter()
        await store.put(data, "mp4")
        again = time.perf_counter()
        walls["put"].append(stored - start)
        walls["read"].append(read - stored)
        walls["put again"].append(again - read)
    return walls


def report(name: str, walls: dict[str, list[float]], size: int) -> None:
    for stage, values in walls.items():
        median = statistics.median(values)
        rate = f"{size / median / 1e6:>8.0f} MB/s" if stage != "put again" else ""
        print(f"{name:<8}{stage:<11}{median * 1000:>9.1f} ms {min(values) * 1000:>9.1f} ms {rate}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0, help="clip size in MB")
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    size = int(options.mb * 1_000_000)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    port = free_port()
    probe = open_blobs(BlobConfig(url="s3://bench/clips", endpoint=f"http://127.0.0.1:{port}"))
    opened = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"S3 client import + open: {opened * 1000:.0f} ms, peak RSS +{grown:.1f} MB")
    del probe

    server = start_moto(port)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/bench", method="PUT")
        urllib.request.urlopen(request, timeout=10).close()
        s3 = open_blobs(
            BlobConfig(
                url="s3://bench/clips",
                endpoint=f"http://127.0.0.1:{port}",
                access_key="bench",
                secret_key="bench",
            )
        )
        with tempfile.TemporaryDirectory(prefix="clipcrew-bench-") as root:
            local = open_blobs(BlobConfig(folder=Path(root)))
            print(f"{options.mb:g} MB clips, {options.runs} runs each, {os.cpu_count()} CPUs")
            print(f"{'store':<8}{'step':<11}{'median':>12} {'min':>12}")
            report("local", asyncio.run(runs(local, size, options.runs)), size)
            report("s3", asyncio.run(runs(s3, size, options.runs)), size)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"load avg {os.getloadavg()[0]:.2f} (other work on this machine slows wall time)")


if __name__ == "__main__":
    main()

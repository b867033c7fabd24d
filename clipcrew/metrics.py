"""The Prometheus endpoints of the bot (CLIPCREW_METRICS_LISTEN) and of each worker
(CLIPCREW_WORKER_METRICS_LISTEN), and the queue gauges both of them sample.

    clipcrew_queue_length{pool}              gauge: jobs waiting (render: queued jobs in the
                                             database; light: light tasks in their arq queue)
    clipcrew_queue_oldest_age_seconds{pool}  gauge: how long the oldest of them has waited

The bot's own series are in bot/metrics.py, the workers' in engine/metrics.py; every process
serves whatever it counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Gauge, start_http_server
from redis.asyncio import Redis

from storage.db import Database
from storage.estimates import elapsed, waiting_stats
from storage.models import utcnow

log = logging.getLogger(__name__)

SAMPLE_S = 5.0
RENDER, LIGHT = "render", "light"

QUEUE_LENGTH = Gauge("clipcrew_queue_length", "Jobs waiting for a worker, per pool.", ["pool"])
QUEUE_AGE = Gauge(
    "clipcrew_queue_oldest_age_seconds",
    "Seconds the oldest job waiting for a worker has waited, per pool.",
    ["pool"],
)


@dataclass(frozen=True)
class MetricsServer:
    url: str
    close: Callable[[], None]


def serve_metrics(listen: str) -> MetricsServer:
    """Start the /metrics endpoint (a thread) at host:port; port 0 picks any free one."""
    host, _, port = listen.rpartition(":")
    server, thread = start_http_server(int(port), addr=host)
    url = f"http://{host}:{server.server_port}/metrics"
    log.info("metrics at %s", url)

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return MetricsServer(url=url, close=close)


async def sample_queues(
    db: Database, *, redis_url: str | None, prefix: str, every_s: float = SAMPLE_S
) -> None:
    """Keep the queue gauges current until cancelled."""
    redis = Redis.from_url(redis_url) if redis_url else None
    try:
        while True:
            try:
                await sample_once(db, redis, prefix)
            except Exception:
                # Metrics must not take the process down with a blip of the database.
                log.warning("could not sample the queues", exc_info=True)
            await asyncio.sleep(every_s)
    finally:
        if redis is not None:
            await redis.aclose()


async def sample_once(db: Database, redis: Redis | None, prefix: str) -> None:
    async with db.session() as session:
        count, oldest = await waiting_stats(session)
    now = utcnow()
    QUEUE_LENGTH.labels(pool=RENDER).set(count)
    QUEUE_AGE.labels(pool=RENDER).set(max(0.0, elapsed(oldest, now)) if oldest else 0.0)
    if redis is None:  # in-process: light work runs at once, nothing waits
        QUEUE_LENGTH.labels(pool=LIGHT).set(0)
        QUEUE_AGE.labels(pool=LIGHT).set(0)
        return
    # engine.light.light_queue_name, spelled out: importing engine.light would bring the light
    # tasks' modules into the bot process.
    name = f"{prefix}:light"
    QUEUE_LENGTH.labels(pool=LIGHT).set(await redis.zcard(name))
    # arq scores each queued task by when it may run (its enqueue time, in ms).
    first = await redis.zrange(name, 0, 0, withscores=True)
    age = now.timestamp() - first[0][1] / 1000 if first else 0.0
    QUEUE_AGE.labels(pool=LIGHT).set(max(0.0, age))

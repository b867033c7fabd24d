"""The Prometheus endpoints as deployed: `clipcrew bot` and a `clipcrew worker`, real processes
on the real Redis and PostgreSQL, driven through the Telegram emulator. After a few clips (and
a 429 from the platform) each endpoint answers with its named series."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.adapters.telegram.emulator import ADA, BOB, GROUP, BotApi
from tests.adapters.telegram.steps import wait_until
from tests.processes import (
    Shape,
    free_port,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

BOT_SERIES = (
    'clipcrew_jobs_total{outcome="posted"} 2.0',
    'clipcrew_post_seconds_count{platform="telegram"} 2.0',
    'clipcrew_platform_rate_limited_total{platform="telegram"} 1.0',
    'clipcrew_platform_api_errors_total{platform="telegram",status="429"} 1.0',
    "# TYPE clipcrew_moderation_refusals_total counter",
    'clipcrew_queue_length{pool="render"}',
    'clipcrew_queue_oldest_age_seconds{pool="light"}',
)
WORKER_SERIES = (
    'clipcrew_worker_jobs_total{outcome="done"} 2.0',
    'clipcrew_render_seconds_count{engine="sketch"} 2.0',
    "clipcrew_job_takeovers_total 0.0",
    'clipcrew_queue_length{pool="render"}',
    'clipcrew_queue_oldest_age_seconds{pool="render"}',
)


async def scrape(port: int) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        assert answer.status == 200
        return await answer.text()


async def test_bot_and_worker_endpoints_answer_with_their_series(shape: Shape) -> None:
    bot_port, worker_port = free_port(), free_port()
    shape.env["CLIPCREW_METRICS_LISTEN"] = f"127.0.0.1:{bot_port}"
    shape.env["CLIPCREW_WORKER_METRICS_LISTEN"] = f"127.0.0.1:{worker_port}"
    await shape.start("bot", "bot")  # migrates the database first
    await shape.start("worker", "worker")
    shape.env.pop("CLIPCREW_WORKER_METRICS_LISTEN")  # one port per process: the light one has none
    await shape.start("light", "worker", "--light")  # it checks the prompts
    api: BotApi = shape.api
    api.fail_next("sendMessage", 429, retry_after=1)  # the rate limiter waits and tries again
    await api.say(GROUP, ADA, "/sora a frog DJ")
    await api.say(GROUP, BOB, "/sora a cat DJ")
    await wait_until(api, "sendVideo", "")
    await api.wait_for("sendVideo", 2)
    # The bot counts a post once the platform answered it: give the last one a moment.
    for _ in range(100):
        bot, worker = await scrape(bot_port), await scrape(worker_port)
        missing = [s for s in BOT_SERIES if s not in bot]
        missing += [s for s in WORKER_SERIES if s not in worker]
        if not missing:
            break
        await asyncio.sleep(0.1)
    assert not missing, f"missing {missing}\nbot:\n{bot[-3000:]}\nworker:\n{worker[-3000:]}"

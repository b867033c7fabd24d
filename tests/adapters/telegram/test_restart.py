"""A bot restart while a job runs: the clip is still posted exactly once, in reply to the
original command (the core's delivery claims; here through Telegram and a real arq worker)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from arq.worker import create_worker
from redis.asyncio import Redis

from clipcrew.app import start_services
from clipcrew.config import worker_config
from engine.worker import worker_settings
from tests.adapters.telegram.conftest import stop_bot, telegram_settings
from tests.adapters.telegram.emulator import ADA, GROUP, BotApi
from tests.conftest import REDIS_URL, delete_keys
from tests.light_worker import light_worker


@pytest.mark.redis
async def test_restart_mid_job_sends_the_video_exactly_once(
    api: BotApi, tmp_path: Path, redis_prefix: str
) -> None:
    settings = telegram_settings(
        tmp_path, api, REDIS_URL=REDIS_URL, CLIPCREW_REDIS_PREFIX=redis_prefix
    )
    try:
        # The prompt check is a light task: a light worker answers it.
        async with light_worker(settings):
            first = await start_services(settings, local_chat=False, worker=False)
            command = await api.say(GROUP, ADA, "/sora a frog on a unicycle")
            [status] = await api.wait_for("sendMessage")
            assert status.params["text"].startswith("🎬")  # queued: the status message is up
            await stop_bot(api, first)  # the bot goes down before the job has even started

        worker = create_worker(
            worker_settings(worker_config(settings)), burst=True, poll_delay=0.01
        )
        try:
            await worker.main()
        finally:
            await worker.close()
        assert worker.jobs_complete == 1
        assert api.of("sendVideo") == []

        second = await start_services(settings, local_chat=False, worker=False)
        try:
            [video] = await api.wait_for("sendVideo")
            await asyncio.sleep(0.5)  # room for a duplicate to show up, if there were one
        finally:
            await stop_bot(api, second)
        assert len(api.of("sendVideo", ok_only=False)) == 1
        assert int(video.params["reply_parameters"]["message_id"]) == command["message_id"]
        assert len(api.of("sendMessage")) == 1  # the command was not handled twice either
    finally:
        client = Redis.from_url(REDIS_URL)
        await delete_keys(client, redis_prefix)
        await client.aclose()

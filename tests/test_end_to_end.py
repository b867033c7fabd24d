"""The whole path with real parts: core, queue, worker, sketch engine, events, storage.

Only the chat is a recording port; the local chat adapter and the browser test cover that side.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest
from arq.worker import create_worker
from redis.asyncio import Redis

from bot.commands import Generate
from bot.replies import ClipReady, Progress, Queued
from clipcrew.app import start_services, stop_services
from clipcrew.config import worker_config
from engine.worker import worker_settings
from storage import deliveries
from tests.conftest import REDIS_URL, delete_keys
from tests.factories import small_settings
from tests.fakes import CHAT, RecordingPort, message, person, wait_for_clips
from tests.light_worker import light_worker


async def test_embedded_sora_to_clip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    port = RecordingPort()
    services = await start_services(small_settings(tmp_path), local_chat=False, ports=[port])
    try:
        queued = await services.core.handle(
            Generate(prompt='a cat says "hello"', author=person(), chat=CHAT, message=message("m1"))
        )
        assert isinstance(queued, Queued)
        await wait_for_clips(port)
    finally:
        await stop_services(services)

    [clip] = port.of("clip")
    assert isinstance(clip.reply, ClipReady) and clip.reply_to == message("m1")
    assert any(isinstance(s.reply, Progress) for s in port.of("edit"))
    video = tmp_path / "out.mp4"
    assert clip.video is not None
    video.write_bytes(clip.video)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 128, 128)
        assert container.streams.audio[0].codec_context.name == "aac"


@pytest.mark.redis
async def test_bot_restart_mid_job_posts_the_clip_exactly_once(
    tmp_path: Path, redis_prefix: str
) -> None:
    settings = small_settings(tmp_path, REDIS_URL=REDIS_URL, CLIPCREW_REDIS_PREFIX=redis_prefix)
    try:
        first_port = RecordingPort()
        # The prompt check is a light task: a light worker answers it.
        async with light_worker(settings):
            first = await start_services(
                settings, local_chat=False, worker=False, ports=[first_port]
            )
            queued = await first.core.handle(
                Generate(
                    prompt="a frog on a unicycle",
                    author=person(),
                    chat=CHAT,
                    message=message("m1"),
                )
            )
            assert isinstance(queued, Queued)
            await stop_services(first)  # the bot goes down before the job has even started

        worker = create_worker(
            worker_settings(worker_config(settings)), burst=True, poll_delay=0.01
        )
        try:
            await worker.main()
        finally:
            await worker.close()
        assert worker.jobs_complete == 1

        second_port = RecordingPort()
        second = await start_services(settings, local_chat=False, worker=False, ports=[second_port])
        try:
            await wait_for_clips(second_port)
            await asyncio.sleep(0.5)  # room for a duplicate to show up, if there were one
            [posted] = second_port.of("clip")
            assert isinstance(posted.reply, ClipReady)
            async with second.db.session() as session:
                assert await deliveries.sent_count(session, posted.reply.clip_id) == 1
        finally:
            await stop_services(second)
        assert first_port.of("clip") == []
        assert posted.reply_to == message("m1")  # still in reply to the original command
    finally:
        client = Redis.from_url(REDIS_URL)
        await delete_keys(client, redis_prefix)
        await client.aclose()


@pytest.mark.redis
async def test_serve_with_redis_runs_an_arq_worker_in_the_same_process(
    tmp_path: Path, redis_prefix: str
) -> None:
    settings = small_settings(tmp_path, REDIS_URL=REDIS_URL, CLIPCREW_REDIS_PREFIX=redis_prefix)
    port = RecordingPort()
    services = await start_services(settings, local_chat=False, worker=True, ports=[port])
    try:
        queued = await services.core.handle(
            Generate(
                prompt="a dog on a skateboard", author=person(), chat=CHAT, message=message("m1")
            )
        )
        assert isinstance(queued, Queued)
        await wait_for_clips(port)
    finally:
        await stop_services(services)
        client = Redis.from_url(REDIS_URL)
        await delete_keys(client, redis_prefix)
        await client.aclose()
    [clip] = port.of("clip")
    assert isinstance(clip.reply, ClipReady) and clip.reply.prompt == "a dog on a skateboard"

"""Shared blob storage from settings to a posted clip: a worker stores the clip in an S3 bucket
(the loopback server), and the bot, with a store object of its own on that bucket, reads and
posts it. Nothing passes through a local folder."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path

import pytest
from arq.worker import create_worker
from redis.asyncio import Redis

from bot.commands import Generate
from bot.deps import Deps
from bot.replies import ClipReady, Queued
from bot.service import Core
from clipcrew.app import start_services, stop_services
from clipcrew.config import blob_config, worker_config
from engine.channels import InProcessEvents
from engine.config import WorkerConfig
from engine.context import build_context
from engine.jobs import run_job
from engine.moderation.task import warm_up
from engine.worker import light_worker_settings, worker_settings
from storage.blob_stores import open_blobs
from storage.blobs import BlobConfig, BlobStore
from storage.db import Database
from storage.s3_blobs import S3Blobs
from tests.conftest import REDIS_URL, delete_keys
from tests.factories import make_job, small_settings
from tests.fakes import CHAT, RecordingPort, RecordingQueue, message, person, wait_for_clips


def s3_env(config: BlobConfig) -> dict[str, object]:
    return {
        "CLIPCREW_BLOB_URL": config.url,
        "CLIPCREW_S3_ENDPOINT": config.endpoint,
        "CLIPCREW_S3_REGION": config.region,
        "CLIPCREW_S3_ACCESS_KEY": config.access_key,
        "CLIPCREW_S3_SECRET_KEY": config.secret_key,
    }


def test_settings_name_the_bucket_and_keep_the_keys_secret(
    tmp_path: Path, s3_config: BlobConfig
) -> None:
    settings = small_settings(tmp_path, **s3_env(s3_config))
    assert blob_config(settings) == replace(s3_config, folder=tmp_path / "blobs")
    assert "test-secret-key" not in repr(settings) and "test-secret-key" not in repr(s3_config)
    assert isinstance(open_blobs(blob_config(settings)), S3Blobs)
    # Unset, blobs stay in the data folder as before.
    local = open_blobs(blob_config(small_settings(tmp_path)))
    assert isinstance(local, BlobStore) and local.root == tmp_path / "blobs"


def test_the_standard_aws_variables_are_understood(tmp_path: Path) -> None:
    settings = small_settings(
        tmp_path,
        CLIPCREW_BLOB_URL="s3://team-clips/prod",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="from-aws-env",
        AWS_REGION="eu-west-1",
    )
    config = blob_config(settings)
    assert (config.access_key, config.secret_key, config.region) == (
        "AKIAEXAMPLE",
        "from-aws-env",
        "eu-west-1",
    )


def test_a_blob_url_that_names_no_bucket_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CLIPCREW_BLOB_URL") as caught:
        small_settings(tmp_path, CLIPCREW_BLOB_URL="my-bucket/clips")
    assert "s3://bucket/prefix" in str(caught.value)


async def test_a_clip_a_worker_stored_in_the_bucket_is_posted_by_the_bot_from_its_own_store(
    sqlite_db: Database, s3_config: BlobConfig
) -> None:
    job = await make_job(sqlite_db, width=96, height=96, fps=12)
    events = InProcessEvents()
    config = WorkerConfig(database_url="sqlite+aiosqlite://", blobs=s3_config)
    ctx = await build_context(config, events=events, db=sqlite_db)
    await run_job(ctx, job.id)
    seen = [d.event for d in await events.read(block_ms=0, count=10_000)]
    [done] = [event for event in seen if event.kind == "done"]

    port = RecordingPort()
    bot_blobs = open_blobs(s3_config)
    assert bot_blobs is not ctx.blobs and isinstance(bot_blobs, S3Blobs)
    core = Core(Deps(db=sqlite_db, queue=RecordingQueue(), blobs=bot_blobs))
    core.attach(port)
    await core.on_event(done)

    [posted] = port.of("clip")
    assert isinstance(posted.reply, ClipReady) and posted.video is not None
    assert posted.video[4:8] == b"ftyp"  # the rendered MP4, read back from the bucket
    assert len(posted.video) == posted.reply.size_bytes
    assert ctx.blobs.local_path(posted.reply.blob_key) is None


@pytest.mark.redis
async def test_a_clip_rendered_on_another_host_is_posted_by_the_bot_from_the_bucket(
    tmp_path: Path, redis_prefix: str, s3_config: BlobConfig
) -> None:
    """The bot, a light worker and a render worker, each from its own settings and data folder,
    on one database, one Redis and the bucket: the production shape, in one test process."""
    shared = {
        "REDIS_URL": REDIS_URL,
        "CLIPCREW_REDIS_PREFIX": redis_prefix,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        **s3_env(s3_config),
    }
    bot_host, gpu_host = tmp_path / "bot-host", tmp_path / "gpu-host"
    gpu = worker_config(small_settings(gpu_host, **shared))
    # The prompt check is a light task: someone has to answer it, within its deadline, so its
    # model is loaded before the first prompt (the light worker in this process shares it).
    await warm_up()
    light = create_worker({**light_worker_settings(gpu), "handle_signals": False})
    lighting = asyncio.create_task(light.async_run())
    port = RecordingPort()
    bot = await start_services(
        small_settings(bot_host, **shared), local_chat=False, worker=False, ports=[port]
    )
    try:
        queued = await bot.core.handle(
            Generate(prompt="a crab DJ", author=person(), chat=CHAT, message=message("m1"))
        )
        assert isinstance(queued, Queued)
        render = create_worker(worker_settings(gpu), burst=True, poll_delay=0.01)
        try:
            await render.main()
        finally:
            await render.close()
        assert render.jobs_complete == 1
        await wait_for_clips(port)
    finally:
        await stop_services(bot)
        await light.close()
        with contextlib.suppress(asyncio.CancelledError):
            await lighting
        client = Redis.from_url(REDIS_URL)
        await delete_keys(client, redis_prefix)
        await client.aclose()

    [posted] = port.of("clip")
    assert isinstance(posted.reply, ClipReady) and posted.video is not None
    assert posted.video[4:8] == b"ftyp"  # the rendered MP4, not a stand-in
    # A third store object on the bucket finds the very bytes the bot posted; no host kept any.
    assert await open_blobs(s3_config).read(posted.reply.blob_key) == posted.video
    assert not (bot_host / "blobs").exists() and not (gpu_host / "blobs").exists()

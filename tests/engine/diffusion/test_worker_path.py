"""The diffusers engine as a deployment runs it: chosen by settings (CLIPCREW_ENGINE and
CLIPCREW_VIDEO_MODEL), loaded once by the worker's build_context, and driven by run_job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clipcrew.config import worker_config

pytest.importorskip("diffusers", reason="the engine extra is not installed")

from engine.backends import load_backend, load_configured_backend
from engine.channels import InProcessEvents
from engine.context import WorkerContext, build_context, close_context
from engine.diffusion.backend import DiffusersBackend, DiffusionOptions
from engine.encode import probe_mp4
from engine.events import JobEvent
from engine.jobs import run_job
from engine.request import BadRequest
from storage.migrate import upgrade
from storage.models import Clip
from tests.engine.diffusion.tiny import build_tiny_wan
from tests.factories import make_job, small_settings

Events = InProcessEvents


@pytest.fixture(scope="module")
def wan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_wan(tmp_path_factory.mktemp("tiny-wan"))


def test_settings_choose_and_load_the_model(wan_folder: Path, tmp_path: Path) -> None:
    settings = small_settings(
        tmp_path, CLIPCREW_ENGINE="diffusers", CLIPCREW_VIDEO_MODEL=str(wan_folder)
    )
    backend = load_configured_backend(worker_config(settings))
    assert isinstance(backend, DiffusersBackend) and backend.family.name == "Wan"


@pytest.fixture
async def worker(wan_folder: Path, tmp_path: Path) -> AsyncIterator[tuple[WorkerContext, Events]]:
    """A worker context built from settings, as `clipcrew worker` builds it."""
    settings = small_settings(
        tmp_path, CLIPCREW_ENGINE="diffusers", CLIPCREW_VIDEO_MODEL=str(wan_folder)
    )
    events = InProcessEvents()
    ctx = await build_context(worker_config(settings), events=events)
    await upgrade(ctx.db)
    yield ctx, events
    await close_context(ctx)


async def events_of(events: Events) -> list[JobEvent]:
    return [d.event for d in await events.read(block_ms=0, count=1000)]


async def test_a_queued_job_renders_through_the_worker_and_reports_done(
    worker: tuple[WorkerContext, Events],
) -> None:
    ctx, events = worker
    # Wan makes 4k+1 frames: 9 frames at 16 fps.
    job = await make_job(ctx.db, width=64, height=64, fps=16, duration_s=9 / 16)
    await run_job(ctx, job.id)
    seen = await events_of(events)
    assert seen[0].kind == "started" and seen[-1].kind == "done", seen[-1]
    async with ctx.db.session() as session:
        clip = await session.get(Clip, seen[-1].clip_id)
    assert clip is not None and clip.engine == "diffusers"
    probe = probe_mp4(await ctx.blobs.read(clip.blob_key))
    assert (probe.video_codec, probe.audio_codec, probe.frames) == ("h264", "aac", 9)


async def test_a_job_the_family_cannot_make_fails_with_the_reason(
    worker: tuple[WorkerContext, Events],
) -> None:
    ctx, events = worker
    job = await make_job(ctx.db, width=64, height=64, fps=16, duration_s=10 / 16)
    await run_job(ctx, job.id)
    last = (await events_of(events))[-1]
    assert last.kind == "failed" and "4k+1" in last.error and "10" in last.error


def test_a_pipeline_that_is_not_text_to_video_is_refused_by_name(tmp_path: Path) -> None:
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    unet = UNet2DModel(
        sample_size=8,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(8, 8),
        norm_num_groups=4,
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
    )
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler()).save_pretrained(tmp_path)
    with pytest.raises(BadRequest, match="DDPMPipeline is not a supported text-to-video"):
        load_backend("diffusers", DiffusionOptions(model=str(tmp_path), device="cpu"))

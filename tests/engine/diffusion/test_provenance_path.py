"""Clips from the diffusers engine are signed like the sketch engine's: a worker built from
settings makes its own CA in the data folder and every stored clip carries a valid manifest
naming the model (a local folder by its name only) and the clip number."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipcrew.config import provenance_config, worker_config

pytest.importorskip("diffusers", reason="the engine extra is not installed")

from engine.channels import InProcessEvents
from engine.context import build_context, close_context
from engine.jobs import run_job
from engine.provenance.manifest import SOURCE_TYPE, read_manifest, trust_anchors
from storage.migrate import upgrade
from storage.models import Clip
from tests.engine.diffusion.tiny import build_tiny_wan
from tests.factories import make_job, small_settings


async def test_a_tiny_wan_clip_from_the_worker_carries_a_valid_manifest(tmp_path: Path) -> None:
    wan = build_tiny_wan(tmp_path / "tiny-wan")
    settings = small_settings(
        tmp_path / "data", CLIPCREW_ENGINE="diffusers", CLIPCREW_VIDEO_MODEL=str(wan)
    )
    events = InProcessEvents()
    ctx = await build_context(worker_config(settings), events=events)
    try:
        await upgrade(ctx.db)
        # Wan makes 4k+1 frames: 9 frames at 16 fps.
        job = await make_job(ctx.db, width=64, height=64, fps=16, duration_s=9 / 16)
        await run_job(ctx, job.id)
        done = [d.event for d in await events.read(block_ms=0, count=1000)][-1]
        assert done.kind == "done", done
        async with ctx.db.session() as session:
            clip = await session.get(Clip, done.clip_id)
        assert clip is not None
        data = await ctx.blobs.read(clip.blob_key)
    finally:
        await close_context(ctx)
    assert (tmp_path / "data" / "c2pa" / "signer.key").exists()
    report = read_manifest(data, trust_anchors(provenance_config(settings)))
    assert report is not None and report.valid and report.trusted, report
    assert report.actions[0] == "c2pa.created" and report.source_types == (SOURCE_TYPE,)
    assert report.clip is not None
    assert (report.clip.clip_id, report.clip.engine) == (clip.id, "diffusers")
    assert report.clip.model == "tiny-wan"

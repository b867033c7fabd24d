"""Preview frames: what the engines offer, the small JPEGs, and the worker sending them as
blobs named in progress events (deleted when the job ends)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engine import previews
from engine.channels import InProcessEvents
from engine.context import WorkerContext
from engine.jobs import run_job
from engine.pipeline import generate
from engine.previews import jpeg_preview, latent_preview
from engine.request import RenderRequest, StageProgress
from engine.sketch import SketchBackend
from storage.blobs import BlobStore
from storage.db import Database
from storage.errors import NotFound
from tests.engine.factories import Collecting
from tests.factories import make_job


def small(**changes: object) -> RenderRequest:
    values: dict[str, object] = {"prompt": "a frog DJ", "seed": 3, "width": 96, "height": 64}
    return RenderRequest(**(values | {"fps": 12, "duration_s": 2.0} | changes))  # type: ignore[arg-type]


def test_the_sketch_engine_offers_a_few_frames_it_drew() -> None:
    collecting = Collecting()
    frames = SketchBackend().render_frames(small(), collecting)
    assert 3 <= len(collecting.frames) <= previews.PREVIEWS_PER_RENDER + 1
    assert all(frame.shape == (64, 96, 3) for frame in collecting.frames)
    # Each is one of the clip's own frames, not a blank.
    assert any(np.array_equal(collecting.frames[-1], frame) for frame in frames)
    # A plain (step, steps) function still works and gets none.
    SketchBackend().render_frames(small(), lambda step, steps: None)


def test_a_preview_is_a_small_jpeg() -> None:
    frame = np.full((512, 768, 3), 200, np.uint8)
    data = jpeg_preview(frame)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and max(image.size) == previews.PREVIEW_SIDE
    assert len(data) < 20_000


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((1, 16, 5, 8, 10), (32, 40, 3)), ((1, 5, 16, 8, 10), (32, 40, 3)), ((1, 64, 16), None)],
    ids=["channels first (Wan)", "frames first (CogVideoX)", "packed (LTX): none"],
)
def test_latent_previews(shape: tuple[int, ...], expected: tuple[int, ...] | None) -> None:
    latents = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    frame = latent_preview(latents, channels=16)
    assert (frame.shape if frame is not None else None) == expected
    if frame is not None:
        assert frame.dtype == np.uint8 and frame.min() == 0 and frame.max() == 255


def test_the_pipeline_turns_offered_frames_into_jpegs_in_its_progress() -> None:
    seen: list[StageProgress] = []
    generate(small(duration_s=1.0), SketchBackend(), on_progress=seen.append)
    with_previews = [p for p in seen if p.preview is not None]
    assert with_previews and all(p.stage == "rendering" for p in with_previews)
    assert all(p.preview is not None and p.preview[:2] == b"\xff\xd8" for p in with_previews)


async def test_the_worker_sends_previews_as_blobs_and_deletes_them_after(
    sqlite_db: Database, blobs: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(previews, "PREVIEW_INTERVAL_S", 0.0)
    job = await make_job(sqlite_db, width=96, height=64, fps=12, duration_s=2.0)
    events = InProcessEvents()
    ctx = WorkerContext(
        db=sqlite_db, blobs=blobs, events=events, backend=SketchBackend(), owns_db=False
    )
    await run_job(ctx, job.id)
    sent = [d.event for d in await events.read(block_ms=0, count=1000)]
    keys = [e.preview_key for e in sent if e.preview_key is not None]
    assert len(keys) >= 2 and sent[-1].kind == "done"
    assert all(e.kind == "progress" and e.stage == "rendering" for e in sent if e.preview_key)
    for key in keys:
        with pytest.raises(NotFound):
            await blobs.read(key)

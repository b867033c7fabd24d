"""The nudity check on finished frames: the real NudeNet model on harmless pictures, and through
the worker, where a detection over the job's threshold blocks the clip like the face check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pytest
from skimage import data
from sqlmodel import select

from engine.api import ALLOWED, DEFAULT_NUDITY_THRESHOLD, PRESETS, STANDARD
from engine.backends import load_backend
from engine.jobs import run_job
from engine.moderation.nudity import (
    NUDITY_BLOCKED,
    NudeNet,
    NudityDetector,
    nudity_score,
    sample_indices,
)
from engine.request import ClipDefaults, Rendered, RenderRequest
from engine.sketch import SketchBackend
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Clip, Job, JobState
from tests.engine.harness import context, drain
from tests.factories import make_job


@pytest.fixture(scope="module")
def nudenet() -> NudeNet:
    return NudeNet.load()


@dataclass
class PhotoBackend:
    """Paints real photos (a person, a cup of coffee), as a video model paints real-looking
    frames: the nudity check's input when an engine other than the sketch one renders."""

    name: str = "photo"
    defaults: ClipDefaults = SketchBackend.defaults

    def render(self, request: RenderRequest, on_progress: Callable[[int, int], None]) -> Rendered:
        frames = np.zeros((request.frame_count, request.height, request.width, 3), np.uint8)
        photos = (data.astronaut(), data.coffee())
        for i in range(request.frame_count):
            photo = photos[i % 2][: request.height, : request.width]
            frames[i, : photo.shape[0], : photo.shape[1]] = photo
            on_progress(i + 1, request.frame_count)
        return Rendered(frames)


@dataclass
class Counting:
    """Passes frames to a detector (the real one, or a fixed score) and counts them."""

    inner: NudityDetector | None = None
    fixed: float = 0.0
    seen: list[tuple[int, ...]] = field(default_factory=list)

    def score(self, frame: np.ndarray) -> float:
        self.seen.append(frame.shape)
        return self.inner.score(frame) if self.inner is not None else self.fixed


def test_sampling_takes_about_one_frame_a_second_spread_over_the_clip() -> None:
    assert sample_indices(120, 24) == [12, 36, 60, 84, 108]
    assert sample_indices(1, 24) == [0]
    assert len(sample_indices(30 * 24, 24)) == 8  # at most MAX_SAMPLES


def test_nudenet_finds_no_nudity_in_harmless_photos(nudenet: NudeNet) -> None:
    for photo in (data.astronaut(), data.coffee(), data.chelsea()):
        assert nudity_score(photo[None], 1, nudenet) < DEFAULT_NUDITY_THRESHOLD


async def job_state(db: Database, job_id: str) -> JobState:
    async with db.session() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job.state


async def stored_clips(db: Database) -> list[Clip]:
    async with db.session() as session:
        return list((await session.exec(select(Clip))).all())


async def test_a_harmless_clip_passes_the_real_model_in_the_worker(
    sqlite_db: Database, blobs: BlobStore, nudenet: NudeNet
) -> None:
    job = await make_job(sqlite_db, width=512, height=384, fps=8, duration_s=2.0)
    ctx, events = context(sqlite_db, blobs, PhotoBackend())
    detector = Counting(inner=nudenet)
    ctx = replace(ctx, nudity=detector)
    await run_job(ctx, job.id)

    assert (await drain(events))[-1].kind == "done"
    assert len(await stored_clips(sqlite_db)) == 1
    assert detector.seen == [(384, 512, 3), (384, 512, 3)]  # one frame a second, full size


async def test_a_nudity_hit_blocks_the_clip_and_nothing_is_stored(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    job = await make_job(sqlite_db, width=96, height=96, fps=8, duration_s=1.0)
    ctx, events = context(sqlite_db, blobs, PhotoBackend())
    ctx = replace(ctx, nudity=Counting(fixed=0.9))
    await run_job(ctx, job.id)

    assert await job_state(sqlite_db, job.id) is JobState.BLOCKED
    last = (await drain(events))[-1]
    assert last.kind == "failed" and last.error == NUDITY_BLOCKED
    assert await stored_clips(sqlite_db) == []
    assert not any(blobs.root.rglob("*.mp4"))


@pytest.mark.parametrize(
    ("threshold", "score", "state", "checked"),
    [
        (PRESETS[STANDARD]["nudity"], 0.6, JobState.DONE, True),
        (PRESETS[STANDARD]["nudity"], 0.7, JobState.BLOCKED, True),
        (None, 0.6, JobState.BLOCKED, True),  # no policy recorded: the strict preset's limit
        (ALLOWED, 0.99, JobState.DONE, False),  # the adult preset skips the check
    ],
)
async def test_the_jobs_threshold_decides(
    sqlite_db: Database,
    blobs: BlobStore,
    threshold: float | None,
    score: float,
    state: JobState,
    checked: bool,
) -> None:
    job = await make_job(
        sqlite_db, width=96, height=96, fps=8, duration_s=1.0, nudity_threshold=threshold
    )
    detector = Counting(fixed=score)
    ctx, _ = context(sqlite_db, blobs, PhotoBackend())
    await run_job(replace(ctx, nudity=detector), job.id)
    assert await job_state(sqlite_db, job.id) is state
    assert bool(detector.seen) is checked


async def test_the_sketch_engines_drawn_clips_skip_the_check(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    job = await make_job(sqlite_db, width=96, height=96, fps=8, duration_s=1.0)
    detector = Counting(fixed=0.99)
    ctx, _ = context(sqlite_db, blobs, load_backend("sketch"))
    await run_job(replace(ctx, nudity=detector), job.id)
    assert await job_state(sqlite_db, job.id) is JobState.DONE
    assert detector.seen == []

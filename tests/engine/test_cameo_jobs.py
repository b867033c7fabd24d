"""Cameos in the worker: consent read at the start, faces placed in the clip, and the output
check that blocks a clip showing an enrolled face without consent. Real database, blob store,
pipeline and dlib face model; the only stand-in is a video backend that paints a real photo,
the way a video model might paint a lookalike."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np
from PIL import Image
from sqlmodel import select

from engine.backends import load_backend
from engine.cameos import BLOCKED, WITHDRAWN, FaceModels
from engine.faces.dlib_backend import DlibAnalyzer
from engine.jobs import run_job
from engine.request import ClipDefaults, Rendered, RenderRequest
from engine.sketch import SketchBackend
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import ApprovalState, Cameo, Clip, Job, JobCameo, JobState, User
from storage.people import upsert_user
from tests.engine.faces import photos
from tests.engine.harness import context, drain
from tests.factories import make_job

SKETCH_DEFAULTS = SketchBackend.defaults


@dataclass
class PhotoBackend:
    """Paints one photo, a little further right each frame."""

    photo: np.ndarray
    name: str = "photo"
    defaults: ClipDefaults = SKETCH_DEFAULTS

    def render(self, request: RenderRequest, on_progress: Callable[[int, int], None]) -> Rendered:
        frames = np.zeros((request.frame_count, request.height, request.width, 3), np.uint8)
        h, w = min(request.height, self.photo.shape[0]), min(request.width, self.photo.shape[1])
        for i in range(request.frame_count):
            frames[i, :h, :w] = self.photo[:h, :w]
            on_progress(i + 1, request.frame_count)
        return Rendered(frames)


def face_of(analyzer: DlibAnalyzer, image: np.ndarray) -> list[float]:
    (face,) = analyzer.detect(image)
    return [float(x) for x in analyzer.embed(image, face).vector]


def crop_png(image: np.ndarray, analyzer: DlibAnalyzer) -> bytes:
    (face,) = analyzer.detect(image)
    box, margin = face.box, round(face.size / 4)
    crop = image[
        max(box.top - margin, 0) : box.bottom + margin,
        max(box.left - margin, 0) : box.right + margin,
    ]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(crop)).save(buffer, format="PNG")
    return buffer.getvalue()


async def enrolled(
    db: Database, user_id: str, embedding: list[float], crops: list[str] | None = None
) -> Cameo:
    async with db.transaction() as session:
        user = await upsert_user(
            session, platform="test", platform_user_id=user_id, display_name=user_id
        )
        assert user.id is not None
        cameo = Cameo(
            owner_id=user.id,
            spoken_code="0000",
            face_model="dlib",
            embedding=embedding,
            crop_keys=crops or [],
        )
        session.add(cameo)
        await session.flush()
    return cameo


async def use(db: Database, job: Job, cameo: Cameo, state: ApprovalState) -> None:
    async with db.transaction() as session:
        assert cameo.id is not None
        session.add(JobCameo(job_id=job.id, cameo_id=cameo.id, state=state))


async def state_of(db: Database, job_id: str) -> JobState:
    async with db.session() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job.state


async def test_a_clip_showing_someone_enrolled_without_consent_is_blocked(
    sqlite_db: Database, blobs: BlobStore, analyzer: DlibAnalyzer
) -> None:
    hopper = photos.grace_hopper()
    await enrolled(sqlite_db, "grace", face_of(analyzer, hopper))
    job = await make_job(sqlite_db, width=320, height=320, fps=8)
    ctx, events = context(sqlite_db, blobs, PhotoBackend(hopper))
    ctx.faces.use(analyzer)
    await run_job(ctx, job.id)

    assert await state_of(sqlite_db, job.id) is JobState.BLOCKED
    last = (await drain(events))[-1]
    assert last.kind == "failed" and last.error == BLOCKED
    async with sqlite_db.session() as session:
        assert (await session.exec(select(Clip))).all() == []  # nothing stored to post
    assert not any(blobs.root.rglob("*.mp4"))


async def test_the_authors_own_face_and_a_stranger_are_not_blocked(
    sqlite_db: Database, blobs: BlobStore, analyzer: DlibAnalyzer
) -> None:
    hopper = photos.grace_hopper()
    # The job's author (make_job's user u1) is the one enrolled with this face.
    job = await make_job(sqlite_db, width=320, height=320, fps=8)
    await enrolled(sqlite_db, "u1", face_of(analyzer, hopper))
    # And someone else enrolled with a different face.
    await enrolled(sqlite_db, "eileen", face_of(analyzer, photos.astronaut()))
    ctx, _events = context(sqlite_db, blobs, PhotoBackend(hopper))
    ctx.faces.use(analyzer)
    await run_job(ctx, job.id)
    assert await state_of(sqlite_db, job.id) is JobState.DONE


async def test_consent_withdrawn_before_the_start_cancels_without_rendering(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    cameo = await enrolled(sqlite_db, "alice", [0.0] * 128)
    job = await make_job(sqlite_db)
    await use(sqlite_db, job, cameo, ApprovalState.REVOKED)

    class NeverRenders:
        name = "never"
        defaults = SKETCH_DEFAULTS

        def render(self, request: RenderRequest, on_progress: object) -> Rendered:
            raise AssertionError("a job without consent must not render")

    ctx, events = context(sqlite_db, blobs, NeverRenders())
    await run_job(ctx, job.id)
    assert await state_of(sqlite_db, job.id) is JobState.CANCELLED
    assert (await drain(events))[-1].error == WITHDRAWN


async def test_the_sketch_engine_puts_the_cameo_in_and_its_match_is_recorded(
    sqlite_db: Database, blobs: BlobStore, analyzer: DlibAnalyzer
) -> None:
    astronaut = photos.astronaut()
    key = await blobs.put(crop_png(astronaut, analyzer), "png")
    cameo = await enrolled(sqlite_db, "eileen", face_of(analyzer, astronaut), [key])
    job = await make_job(
        sqlite_db, prompt="@eileen hosts a cooking show", width=384, height=384, fps=8
    )
    await use(sqlite_db, job, cameo, ApprovalState.ALLOWED)
    ctx, _events = context(sqlite_db, blobs, load_backend("sketch"))
    ctx.faces.use(analyzer)
    await run_job(ctx, job.id)

    assert await state_of(sqlite_db, job.id) is JobState.DONE
    async with sqlite_db.session() as session:
        recorded = (await session.exec(select(JobCameo))).one()
        owner = (await session.exec(select(User).where(User.platform_user_id == "eileen"))).one()
    assert owner.id == cameo.owner_id
    assert recorded.similarity is not None and recorded.similarity > 0.5
    # The file's provenance names who is in it.
    async with sqlite_db.session() as session:
        (clip,) = (await session.exec(select(Clip))).all()
    with av.open(io.BytesIO(await blobs.read(clip.blob_key))) as container:
        assert container.metadata["clipcrew_cameos"] == "eileen"


async def test_no_enrolled_faces_means_no_face_model_is_loaded(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    job = await make_job(sqlite_db)
    ctx, _ = context(sqlite_db, blobs, load_backend("sketch"))
    object.__setattr__(ctx, "faces", FaceModels(backend="no-such-backend"))
    await run_job(ctx, job.id)  # would fail loading "no-such-backend" if it tried
    assert await state_of(sqlite_db, job.id) is JobState.DONE

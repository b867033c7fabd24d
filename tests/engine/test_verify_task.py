"""/verify's light task and signed refits: the bot hands a stored upload (or a clip too big for
a platform) to a light worker, which answers as `clipcrew verify` would, or signs the refit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from engine.cameos import FaceModels
from engine.encode import encode_mp4
from engine.jobs import run_job
from engine.light import InProcessLight, LightContext
from engine.provenance.config import ProvenanceConfig
from engine.provenance.manifest import ClipSigner, load_signer, read_manifest
from engine.queue import FIT_CLIP, VERIFY_VIDEO, LightTaskFailed
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Clip
from tests.engine.chat_copy import chat_copy
from tests.engine.harness import worker
from tests.factories import make_job


@pytest.fixture
def signer(tmp_path: Path) -> ClipSigner:
    made = load_signer(ProvenanceConfig(own_ca_dir=tmp_path / "c2pa"))
    assert made is not None
    return made


async def stored_clip(db: Database, blobs: BlobStore, signer: ClipSigner) -> tuple[Clip, bytes]:
    ctx = worker(db, blobs, signer)
    job = await make_job(db, width=480, height=320, fps=12, duration_s=5.0)
    await run_job(ctx, job.id)
    async with db.session() as session:
        clip = (await session.exec(select(Clip))).one()
    return clip, await blobs.read(clip.blob_key)


async def test_verify_video_answers_with_the_lines_clipcrew_verify_prints(
    any_db: Database, blobs: BlobStore, signer: ClipSigner
) -> None:
    sqlite_db = any_db  # SQLite and PostgreSQL alike
    clip, data = await stored_clip(sqlite_db, blobs, signer)
    light = InProcessLight(
        LightContext(sqlite_db, blobs, FaceModels(), owns_db=False, signer=signer)
    )

    async def ask(video: bytes) -> dict[str, object]:
        key = await blobs.put(video, "mp4")
        return await light.call(VERIFY_VIDEO, {"video_key": key}, timeout_s=60)

    original = await ask(data)
    assert original["matched"] is True
    assert original["lines"][0].startswith(f"match: C2PA manifest, clipcrew clip #{clip.id}")  # type: ignore[index]
    copy = await ask(chat_copy(data, trim_start_s=1.0))
    assert copy["matched"] is True
    assert copy["lines"][0].startswith(f"match: fingerprint, clipcrew clip #{clip.id}")  # type: ignore[index]
    assert "author: @frogfan" in copy["lines"]  # type: ignore[operator]
    noise = np.random.default_rng(0).integers(0, 255, (36, 160, 240, 3), dtype=np.uint8)
    unrelated = await ask(encode_mp4(noise, None, fps=12, sample_rate=48_000))
    assert unrelated["matched"] is False
    assert unrelated["lines"][0].startswith("no match")  # type: ignore[index]
    with pytest.raises(LightTaskFailed, match="send it again"):
        await light.call(VERIFY_VIDEO, {"video_key": "0" * 64 + ".mp4"}, timeout_s=60)


async def test_a_refit_clip_is_signed_again_and_stays_under_the_limit(
    sqlite_db: Database, blobs: BlobStore, signer: ClipSigner
) -> None:
    clip, data = await stored_clip(sqlite_db, blobs, signer)
    light = InProcessLight(
        LightContext(sqlite_db, blobs, FaceModels(), owns_db=False, signer=signer)
    )
    limit = len(data) * 6 // 10
    answer = await light.call(
        FIT_CLIP, {"blob_key": clip.blob_key, "max_bytes": limit}, timeout_s=60
    )
    fitted = await blobs.read(answer["blob_key"])
    assert len(fitted) <= limit
    report = read_manifest(fitted, signer.anchors_pem)
    assert report is not None and report.trusted and report.clip is not None
    assert report.clip.clip_id == clip.id
    assert report.actions == ("c2pa.opened", "c2pa.transcoded")

"""C2PA on every clip: the worker signs each stored clip with its number, a remix names its
parent as ingredient, and c2pa's own Reader checks the result."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from sqlmodel import select

from engine.backends import load_backend
from engine.fit import fit_clip
from engine.jobs import run_job
from engine.pipeline import generate
from engine.provenance.config import ProvenanceConfig
from engine.provenance.fingerprint import Fingerprint
from engine.provenance.keys import ensure_own_ca
from engine.provenance.manifest import (
    SOURCE_TYPE,
    ClipInfo,
    ClipSigner,
    ProvenanceError,
    load_signer,
    read_manifest,
    sign_clip,
    sign_refit,
    trust_anchors,
)
from engine.provenance.seal import SKETCH_MODEL
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Clip, ClipPrint, JobState
from tests.engine.factories import small_request
from tests.engine.harness import worker
from tests.factories import make_clip, make_job


@pytest.fixture
def signer(tmp_path: Path) -> ClipSigner:
    made = load_signer(ProvenanceConfig(own_ca_dir=tmp_path / "c2pa"))
    assert made is not None
    return made


@pytest.fixture(scope="module")
def clip_data() -> bytes:
    return generate(small_request(), load_backend("sketch")).data


async def clip_of_job(db: Database, job_id: str) -> Clip:
    async with db.session() as session:
        return (await session.exec(select(Clip).where(Clip.job_id == job_id))).one()


def test_own_ca_is_made_once_and_kept_private(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "c2pa"
    first = ensure_own_ca(folder)
    key = first.key.read_bytes()
    assert ensure_own_ca(folder).key.read_bytes() == key
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (first.key, first.chain, first.ca):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.chain.read_bytes().count(b"BEGIN CERTIFICATE") == 2
    # Nothing is left behind from making it.
    assert [p.name for p in folder.parent.iterdir()] == ["c2pa"]


async def test_every_clip_the_worker_stores_is_signed_with_its_number(
    any_db: Database, blobs: BlobStore, signer: ClipSigner
) -> None:
    sqlite_db = any_db  # SQLite and PostgreSQL alike
    job = await make_job(sqlite_db)
    await run_job(worker(sqlite_db, blobs, signer), job.id)
    clip = await clip_of_job(sqlite_db, job.id)
    data = await blobs.read(clip.blob_key)
    assert clip.size_bytes == len(data)

    report = read_manifest(data, signer.anchors_pem)
    assert report is not None and report.valid and report.trusted, report
    assert report.actions[0] == "c2pa.created"
    assert report.source_types == (SOURCE_TYPE,)
    assert report.clip == ClipInfo(
        clip_id=clip.id,
        job_id=job.id,
        engine="sketch",
        model=SKETCH_MODEL,
        prompt_sha256=hashlib.sha256(job.prompt.encode()).hexdigest(),
        cameos=(),
        parent_clip_id=None,
    )
    assert report.ingredients == ()
    # The unsigned file it replaced is gone; the fingerprint is kept.
    assert sorted(p.name for p in blobs.root.rglob("*.mp4")) == [Path(clip.blob_key).name]
    async with sqlite_db.session() as session:
        assert clip.id is not None
        kept = await session.get(ClipPrint, clip.id)
    assert kept is not None and kept.deleted_at is None
    assert Fingerprint.from_bytes(kept.data).duration_s == pytest.approx(1.0)


async def test_a_remix_is_signed_as_an_edit_of_its_parent(
    sqlite_db: Database, blobs: BlobStore, signer: ClipSigner
) -> None:
    ctx = worker(sqlite_db, blobs, signer)
    first = await make_job(sqlite_db)
    await run_job(ctx, first.id)
    parent = await clip_of_job(sqlite_db, first.id)
    remix = await make_job(sqlite_db, prompt="a frog in the rain", parent_clip_id=parent.id)
    await run_job(ctx, remix.id)
    child = await clip_of_job(sqlite_db, remix.id)

    report = read_manifest(await blobs.read(child.blob_key), signer.anchors_pem)
    assert report is not None and report.trusted
    assert report.ingredients == (f"parentOf: clipcrew clip {parent.id}",)
    assert report.actions == ("c2pa.opened", "c2pa.edited")
    assert report.clip is not None
    assert (report.clip.clip_id, report.clip.parent_clip_id) == (child.id, parent.id)


async def test_without_a_signer_clips_are_stored_unsigned_but_fingerprinted(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    job = await make_job(sqlite_db)
    await run_job(worker(sqlite_db, blobs, None), job.id)
    clip = await clip_of_job(sqlite_db, job.id)
    assert read_manifest(await blobs.read(clip.blob_key)) is None
    async with sqlite_db.session() as session:
        assert clip.id is not None
        assert await session.get(ClipPrint, clip.id) is not None


def test_the_manifest_names_the_cameos_and_hashes_not_the_prompt(
    clip_data: bytes, signer: ClipSigner
) -> None:
    info = ClipInfo(7, "job-7", "sketch", SKETCH_MODEL, "ab" * 32, ("@bob", "@carol"))
    signed = sign_clip(clip_data, info, signer)
    report = read_manifest(signed, signer.anchors_pem)
    assert report is not None and report.clip == info
    assert report.title == "clipcrew clip 7"
    assert b"a cat in space" not in signed


def test_a_changed_byte_or_a_stranger_s_certificate_is_caught(
    clip_data: bytes, signer: ClipSigner, tmp_path: Path
) -> None:
    signed = sign_clip(clip_data, ClipInfo(1, "j", "sketch", "m", "00"), signer)
    tampered = bytearray(signed)
    tampered[-300] ^= 0xFF
    report = read_manifest(bytes(tampered), signer.anchors_pem)
    assert report is not None and not report.valid and report.failures
    stranger = load_signer(ProvenanceConfig(own_ca_dir=tmp_path / "other"))
    assert stranger is not None
    theirs = read_manifest(sign_clip(clip_data, ClipInfo(1, "j", "sketch", "m", "00"), stranger))
    assert theirs is not None and theirs.valid and not theirs.trusted
    untrusted = read_manifest(
        sign_clip(clip_data, ClipInfo(1, "j", "sketch", "m", "00"), stranger), signer.anchors_pem
    )
    assert untrusted is not None and not untrusted.trusted
    assert read_manifest(clip_data) is None


def test_a_re_encode_drops_the_manifest_and_a_refit_is_signed_again(
    clip_data: bytes, signer: ClipSigner
) -> None:
    info = ClipInfo(3, "job-3", "sketch", SKETCH_MODEL, "cd" * 32)
    signed = sign_clip(clip_data, info, signer)
    fitted = fit_clip(signed, len(signed) * 2 // 3)
    assert read_manifest(fitted) is None  # why signing must be the very last step
    resigned = sign_refit(signed, fitted, signer)
    report = read_manifest(resigned, signer.anchors_pem)
    assert report is not None and report.trusted and report.clip == info
    assert report.actions == ("c2pa.opened", "c2pa.transcoded")
    assert report.ingredients == ("parentOf: clipcrew clip 3",)
    # An original with no manifest of ours gives the refit back as it is.
    assert sign_refit(clip_data, fitted, signer) == fitted


def test_an_operator_chain_signs_and_is_trusted(
    clip_data: bytes, tmp_path: Path, signer: ClipSigner
) -> None:
    own = ensure_own_ca(tmp_path / "operator")
    config = ProvenanceConfig(cert_chain=own.chain, key=own.key, own_ca_dir=tmp_path / "unused")
    operator = load_signer(config)
    assert operator is not None and not (tmp_path / "unused").exists()
    assert trust_anchors(config) == own.ca.read_bytes()
    report = read_manifest(sign_clip(clip_data, ClipInfo(1, "j", "s", "m", "0"), operator))
    assert report is not None and report.valid
    assert read_manifest(
        sign_clip(clip_data, ClipInfo(1, "j", "s", "m", "0"), operator), trust_anchors(config)
    ).trusted  # type: ignore[union-attr]
    assert load_signer(ProvenanceConfig()) is None


def test_an_unreadable_or_broken_key_says_which(tmp_path: Path) -> None:
    own = ensure_own_ca(tmp_path / "c2pa")
    with pytest.raises(ProvenanceError, match=r"missing\.pem"):
        load_signer(ProvenanceConfig(cert_chain=tmp_path / "missing.pem", key=own.key))
    broken = tmp_path / "broken.key"
    broken.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ProvenanceError, match="unusable"):
        load_signer(ProvenanceConfig(cert_chain=own.chain, key=broken))


async def test_a_clip_signed_under_an_upload_limit_still_fits_it(
    sqlite_db: Database, blobs: BlobStore, signer: ClipSigner
) -> None:
    ctx = worker(sqlite_db, blobs, signer)
    free = await make_job(sqlite_db, seed=3, width=128, height=128, fps=12)
    await run_job(ctx, free.id)
    size = (await clip_of_job(sqlite_db, free.id)).size_bytes
    # The same clip under a limit its unsigned encode fits but its signed file would not.
    limit = size - 1000
    capped = await make_job(sqlite_db, seed=3, width=128, height=128, fps=12, target_bytes=limit)
    await run_job(ctx, capped.id)
    clip = await clip_of_job(sqlite_db, capped.id)
    data = await blobs.read(clip.blob_key)
    assert len(data) <= limit
    report = read_manifest(data, signer.anchors_pem)
    assert report is not None and report.trusted


async def test_a_clip_left_unsigned_by_a_dead_worker_is_signed_when_the_job_comes_again(
    sqlite_db: Database, blobs: BlobStore, signer: ClipSigner, clip_data: bytes
) -> None:
    # The worker stored the clip and its row (the job is done), then died before signing it.
    job = await make_job(sqlite_db, state=JobState.DONE)
    key = await blobs.put(clip_data, "mp4")
    stored = await make_clip(sqlite_db, job, blob_key=key)
    await run_job(worker(sqlite_db, blobs, signer), job.id)  # the queue delivers it again
    clip = await clip_of_job(sqlite_db, job.id)
    report = read_manifest(await blobs.read(clip.blob_key), signer.anchors_pem)
    assert report is not None and report.trusted and report.clip is not None
    assert report.clip.clip_id == stored.id
    # A third delivery changes nothing.
    await run_job(worker(sqlite_db, blobs, signer), job.id)
    assert (await clip_of_job(sqlite_db, job.id)).blob_key == clip.blob_key

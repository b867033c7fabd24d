"""/verify in a DM, in the core: the upload goes to a real light worker (in process) and the
answer is the lines `clipcrew verify` prints; the bot keeps no copy of the upload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from bot.commands import VerifyUpload
from bot.deps import Deps
from bot.replies import Note, Refused
from bot.service import Core
from bot.types import ChatRef, ChatUser
from bot.verify import MAX_VERIFY_BYTES, verify_upload
from engine.backends import load_backend
from engine.cameos import FaceModels
from engine.channels import InProcessEvents
from engine.context import WorkerContext
from engine.encode import encode_mp4
from engine.jobs import run_job
from engine.light import InProcessLight, LightContext
from engine.provenance.config import ProvenanceConfig
from engine.provenance.manifest import load_signer
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Clip
from tests.engine.chat_copy import chat_copy
from tests.factories import make_job
from tests.fakes import RecordingPort, RecordingQueue

PERSON = ChatUser("test", "u9", "Sam", "sam")
DM = ChatRef("test", "dm-u9")


def upload(video: bytes, *, size: int | None = None) -> VerifyUpload:
    async def fetch() -> bytes:
        return video

    return VerifyUpload(PERSON, DM, fetch, len(video) if size is None else size)


async def test_a_video_sent_with_verify_is_traced_and_not_kept(
    sqlite_db: Database, blobs: BlobStore, tmp_path: Path
) -> None:
    signer = load_signer(ProvenanceConfig(own_ca_dir=tmp_path / "c2pa"))
    worker = WorkerContext(
        db=sqlite_db,
        blobs=blobs,
        events=InProcessEvents(),
        backend=load_backend("sketch"),
        owns_db=False,
        signer=signer,
    )
    job = await make_job(sqlite_db, width=480, height=320, fps=12, duration_s=5.0)
    await run_job(worker, job.id)
    async with sqlite_db.session() as session:
        clip = (await session.exec(select(Clip))).one()
    original = await blobs.read(clip.blob_key)
    light = InProcessLight(
        LightContext(sqlite_db, blobs, FaceModels(), owns_db=False, signer=signer)
    )
    deps = Deps(db=sqlite_db, queue=RecordingQueue(), blobs=blobs, light=light)

    reply = await verify_upload(deps, upload(original))
    assert isinstance(reply, Note)
    assert reply.text.startswith(f"✅ match: C2PA manifest, clipcrew clip #{clip.id}")
    assert await blobs.exists(clip.blob_key)  # the posted clip's own file stays

    copy = chat_copy(original, trim_end_s=1.0)
    reply = await verify_upload(deps, upload(copy))
    assert isinstance(reply, Note)
    assert reply.text.startswith(f"✅ match: fingerprint, clipcrew clip #{clip.id}")
    assert "author: @frogfan" in reply.text.splitlines()
    assert sorted(p.name for p in blobs.root.rglob("*.mp4")) == [Path(clip.blob_key).name]

    noise = np.random.default_rng(5).integers(0, 255, (36, 160, 240, 3), dtype=np.uint8)
    reply = await verify_upload(deps, upload(encode_mp4(noise, None, fps=12, sample_rate=48_000)))
    assert isinstance(reply, Note) and reply.text.startswith("❔ no match")


async def test_too_big_or_no_light_worker_is_a_plain_refusal(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    async def never_fetched() -> bytes:
        raise AssertionError("a video over the limit must not be downloaded")

    deps = Deps(db=sqlite_db, queue=RecordingQueue(), blobs=blobs, light=None)
    big = VerifyUpload(PERSON, DM, never_fetched, MAX_VERIFY_BYTES + 1)
    reply = await verify_upload(deps, big)
    assert isinstance(reply, Refused) and "20 MB" in reply.text
    reply = await verify_upload(deps, upload(b"some bytes"))
    assert isinstance(reply, Refused) and "isn't available" in reply.text


@pytest.mark.parametrize("junk", [b"", b"not a video at all"])
async def test_junk_gets_a_sentence(sqlite_db: Database, blobs: BlobStore, junk: bytes) -> None:
    light = InProcessLight(LightContext(sqlite_db, blobs, FaceModels(), owns_db=False))
    deps = Deps(db=sqlite_db, queue=RecordingQueue(), blobs=blobs, light=light)
    reply = await verify_upload(deps, upload(junk))
    text = reply.text
    assert "empty" in text or "not a video I can read" in text
    assert list(blobs.root.rglob("*.mp4")) == []


async def test_the_core_says_it_is_checking_then_shows_the_answer(
    sqlite_db: Database, blobs: BlobStore
) -> None:
    light = InProcessLight(LightContext(sqlite_db, blobs, FaceModels(), owns_db=False))
    core = Core(Deps(db=sqlite_db, queue=RecordingQueue(), blobs=blobs, light=light))
    port = RecordingPort()
    core.attach(port)
    reply = await core.handle(upload(b"a text file, not a video"))
    checking, answer = port.sent
    assert (checking.action, checking.chat) == ("post", DM)
    assert checking.reply.text.startswith("🔍 Checking")
    assert (answer.action, answer.message_id) == ("edit", checking.message_id)
    assert answer.reply == reply and reply.text.startswith("❔ no match")

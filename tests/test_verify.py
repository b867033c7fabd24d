"""`clipcrew verify FILE` on clips a real worker made: the original (its C2PA manifest), a chat
copy and a trimmed copy (the fingerprint), another seed, unrelated video and a deleted clip."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from bot.deletion import remove_clips
from bot.deps import Deps
from clipcrew.config import worker_config
from engine.channels import InProcessEvents
from engine.context import build_context, close_context
from engine.encode import encode_mp4
from engine.jobs import run_job
from engine.pipeline import generate
from engine.request import RenderRequest
from engine.sketch import SketchBackend
from storage.blobs import BlobStore
from storage.db import connect
from storage.migrate import upgrade
from storage.models import Clip
from tests.engine.chat_copy import chat_copy
from tests.factories import make_job, small_settings
from tests.fakes import RecordingQueue


@dataclass(frozen=True)
class Made:
    data_dir: Path
    clip_id: int
    data: bytes
    folder: Path


async def render_and_store(data_dir: Path) -> tuple[int, bytes]:
    """One 5 s clip rendered and stored by a worker built from settings, as in production."""
    ctx = await build_context(worker_config(small_settings(data_dir)), events=InProcessEvents())
    try:
        await upgrade(ctx.db)
        job = await make_job(
            ctx.db,
            prompt="a cat DJ at a rooftop party",
            width=640,
            height=480,
            fps=12,
            duration_s=5.0,
        )
        await run_job(ctx, job.id)
        async with ctx.db.session() as session:
            clip = (await session.exec(select(Clip))).one()
        assert clip.id is not None
        return clip.id, await ctx.blobs.read(clip.blob_key)
    finally:
        await close_context(ctx)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    folder = tmp_path_factory.mktemp("verify")
    clip_id, data = asyncio.run(render_and_store(folder / "data"))
    return Made(folder / "data", clip_id, data, folder)


def verify(path: Path, data_dir: Path) -> tuple[int, list[str], str]:
    """`clipcrew verify path` as a person runs it: its own process, settings from the
    environment (only the data folder set), exit status and output as they are."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIPCREW_", "DATABASE_"))}
    env.pop("REDIS_URL", None)
    env["CLIPCREW_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "clipcrew.cli", "verify", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=path.parent,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout.splitlines(), done.stderr


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_the_original_is_traced_by_its_manifest(made: Made) -> None:
    status, lines, _ = verify(write(made.folder, "clip.mp4", made.data), made.data_dir)
    assert status == 0
    assert lines[0] == f"match: C2PA manifest, clipcrew clip #{made.clip_id} (signature trusted)"
    assert f"clip: #{made.clip_id}" in lines
    assert "chat: c1 (test)" in lines and "author: @frogfan" in lines
    assert "cameos: none" in lines
    assert any(line.startswith("date: ") for line in lines)
    assert any("c2pa.created" in line and "trainedAlgorithmicMedia" in line for line in lines)


@pytest.mark.parametrize(
    ("name", "trim_start_s", "trim_end_s"),
    [("copy.mp4", 0.0, 0.0), ("trimmed-start.mp4", 1.0, 0.0), ("trimmed-end.mp4", 0.0, 1.0)],
)
def test_a_chat_copy_is_traced_by_its_fingerprint(
    made: Made,
    name: str,
    trim_start_s: float,
    trim_end_s: float,
) -> None:
    copy = chat_copy(made.data, crf=32, trim_start_s=trim_start_s, trim_end_s=trim_end_s)
    status, lines, _ = verify(write(made.folder, name, copy), made.data_dir)
    assert status == 0, lines
    assert lines[0].startswith(f"match: fingerprint, clipcrew clip #{made.clip_id} (")
    assert "author: @frogfan" in lines and "chat: c1 (test)" in lines
    assert any("no C2PA manifest" in line for line in lines)


def test_another_seed_or_prompt_and_unrelated_videos_do_not_match(made: Made) -> None:
    asked = RenderRequest(
        prompt="a cat DJ at a rooftop party", seed=7, width=640, height=480, fps=12, duration_s=5
    )
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, (48, 240, 320, 3), dtype=np.uint8)
    others = {
        "other-seed.mp4": generate(replace(asked, seed=8), SketchBackend()).data,
        "other-prompt.mp4": generate(replace(asked, prompt="a dog surfing"), SketchBackend()).data,
        "noise.mp4": encode_mp4(noise, None, fps=12, sample_rate=48_000),
    }
    for name, data in others.items():
        status, lines, _ = verify(write(made.folder, name, chat_copy(data)), made.data_dir)
        assert status == 1, (name, lines)
        assert lines[0] == "no match: no valid clipcrew C2PA manifest and no fingerprint match"


async def test_a_deleted_clip_still_traces_as_a_tombstone(made: Made, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(made.data_dir, data_dir)
    database = connect(small_settings(data_dir).db_url)
    deps = Deps(db=database, queue=RecordingQueue(), blobs=BlobStore(data_dir / "blobs"))
    try:
        assert await remove_clips(deps, [made.clip_id], {}) == 1
    finally:
        await database.close()
    copy = write(tmp_path, "copy.mp4", chat_copy(made.data))
    status, lines, _ = await asyncio.to_thread(verify, copy, data_dir)
    assert status == 0
    assert lines[0].startswith(f"match: fingerprint, clipcrew clip #{made.clip_id}")
    assert lines[1].startswith("made by clipcrew on ") and lines[1].endswith(", since deleted")
    text = "\n".join(lines)
    assert "@frogfan" not in text and "rooftop" not in text


def test_files_that_cannot_be_read_or_are_no_video(made: Made) -> None:
    status, lines, _ = verify(write(made.folder, "notes.txt", b"hello, not a video"), made.data_dir)
    assert status == 1
    assert lines[0].startswith("no match") and "That file is not a video I can read." in lines
    status, lines, error = verify(made.folder / "missing.mp4", made.data_dir)
    assert status == 2 and lines == [] and "cannot read" in error

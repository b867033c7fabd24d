"""A model family sets what the settings leave open: size, rate, length, steps and guidance.
Explicit values still win and are checked, naming the bad one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.backends import load_backend
from engine.config import DiffusionOptions
from engine.diffusion.backend import DiffusersBackend
from engine.encode import probe_mp4
from engine.jobs import render_request
from engine.request import ClipDefaults, ClipShape, clip_shape
from storage import jobs as job_rows
from storage.models import Job
from tests.engine.diffusion.tiny import build_tiny_wan

WAN = ClipDefaults(width=832, height=480, fps=16, frames=81, steps=50, guidance=5.0)


@pytest.fixture(scope="module")
def wan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_wan(tmp_path_factory.mktemp("tiny-wan"))


@pytest.mark.parametrize(
    ("given", "shape"),
    [
        ({}, ClipShape(832, 480, 16, 81 / 16, 81)),
        ({"frames": 17}, ClipShape(832, 480, 16, 17 / 16, 17)),
        ({"frames": 17, "fps": 24}, ClipShape(832, 480, 24, 17 / 24, 17)),
        ({"duration_s": 2.0}, ClipShape(832, 480, 16, 2.0, None)),
        ({"width": 512, "height": 320, "fps": 8}, ClipShape(512, 320, 8, 81 / 8, 81)),
    ],
    ids=["all-defaults", "frames", "frames-and-fps", "seconds", "size-and-fps"],
)
def test_what_is_left_open_comes_from_the_family(given: dict[str, float], shape: ClipShape):
    assert clip_shape(WAN, **given) == shape  # type: ignore[arg-type]


def test_a_loaded_wan_pipeline_brings_its_familys_defaults(wan_folder: Path) -> None:
    backend = load_backend("diffusers", DiffusionOptions(model=str(wan_folder), device="cpu"))
    assert isinstance(backend, DiffusersBackend)
    assert backend.defaults == WAN


def test_a_job_without_a_size_renders_at_the_engines_defaults() -> None:
    job = Job(id="j", prompt="a parrot", seed=1, engine="diffusers", author_id=1, chat_id=1)
    request = render_request(job_rows.Claimed(job=job, author="@ada"), defaults=WAN)
    assert (request.width, request.height, request.fps, request.frame_count) == (832, 480, 16, 81)
    explicit = Job(
        id="k", prompt="a parrot", seed=1, engine="diffusers", author_id=1, chat_id=1, fps=8
    )
    request = render_request(job_rows.Claimed(job=explicit, author="@ada"), defaults=WAN)
    assert (request.fps, request.frame_count) == (8, 81)


def test_generate_with_frames_and_no_fps_runs_at_the_familys_rate(
    wan_folder: Path, tmp_path: Path
) -> None:
    output = tmp_path / "parrot.mp4"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLIPCREW_")},
        "CLIPCREW_ENGINE": "diffusers",
        "CLIPCREW_VIDEO_MODEL": str(wan_folder),
        "CLIPCREW_DEVICE": "cpu",
        "CLIPCREW_DATA_DIR": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "clipcrew.cli", "generate", "a parrot", "-o", str(output)]
    command += ["--frames", "17", "--width", "64", "--height", "64", "--steps", "2"]
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "diffusers: 64x64, 17 frames at 16 fps (1.06 s), 2 steps, guidance 5" in done.stdout
    probe = probe_mp4(output.read_bytes())
    assert (probe.frames, round(probe.fps)) == (17, 16)


def test_an_explicit_value_outside_the_family_is_refused_by_name(
    wan_folder: Path, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLIPCREW_")},
        "CLIPCREW_ENGINE": "diffusers",
        "CLIPCREW_VIDEO_MODEL": str(wan_folder),
        "CLIPCREW_DEVICE": "cpu",
        "CLIPCREW_DATA_DIR": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "clipcrew.cli", "generate", "a parrot"]
    command += ["--frames", "16", "--width", "64", "--height", "64", "-o", str(tmp_path / "x.mp4")]
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert "Wan makes 4k+1 frames; 16 is not one of them" in done.stderr

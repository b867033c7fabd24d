"""LTX-2 makes its sound with its picture: the clip's soundtrack is that sound, not the tune.
A tiny random-weight LTX2Pipeline, built offline and loaded through the real loading code."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the engine extra is not installed")

from engine.audio import SAMPLE_RATE, TARGET_RMS, soundtrack
from engine.backends import load_backend
from engine.diffusion.backend import DiffusersBackend, DiffusionOptions
from engine.encode import decode_audio, probe_mp4
from engine.pipeline import generate
from engine.request import Rendered, RenderRequest
from tests.engine.diffusion.tiny import build_tiny_ltx2
from tests.engine.factories import rms

# 9 frames at 16 fps: a clip the pipeline's 0.5 s minimum allows. One step keeps the tiny model
# (three transformer passes a step: guidance and STG) quick.
REQUEST = RenderRequest(
    prompt="a cat says hello",
    seed=3,
    width=64,
    height=64,
    fps=16,
    frames=9,
    steps=1,
    duration_s=9 / 16,
    author="tester",
    job_id="job-l",
)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> DiffusersBackend:
    folder = build_tiny_ltx2(tmp_path_factory.mktemp("tiny-ltx2"))
    loaded = load_backend("diffusers", DiffusionOptions(model=str(folder), device="cpu"))
    assert isinstance(loaded, DiffusersBackend)
    return loaded


@pytest.fixture(scope="module")
def rendered(backend: DiffusersBackend) -> Rendered:
    return backend.render(REQUEST, lambda i, n: None)


def test_ltx2_renders_frames_and_its_own_audio(
    backend: DiffusersBackend, rendered: Rendered
) -> None:
    assert backend.family.name == "LTX-2" and backend.family.makes_audio
    assert rendered.frames.shape == (9, 64, 64, 3) and rendered.frames.dtype == np.uint8
    assert rendered.sample_rate == 16_000  # the vocoder's output rate, read from its config
    assert rendered.audio is not None and rendered.audio.dtype == np.float32
    channels, samples = rendered.audio.shape
    assert channels == 2 and samples == pytest.approx(REQUEST.video_duration_s * 16_000, rel=0.2)
    assert rms(rendered.audio) > 0


def test_the_clip_carries_ltx2s_audio_not_the_synthesized_music(
    backend: DiffusersBackend,
) -> None:
    clip = generate(REQUEST, backend)
    probe = probe_mp4(clip.data)
    assert (probe.video_codec, probe.audio_codec, probe.frames) == ("h264", "aac", 9)
    audio, rate = decode_audio(clip.data)
    assert rate == SAMPLE_RATE and audio.shape[0] == 2
    music = soundtrack(REQUEST, None)
    n = min(audio.shape[1], music.shape[1])
    assert rms(audio[:, :n] - music[:, :n]) > 0.02
    # Normalised like any soundtrack (the fades at the ends take a little off).
    assert rms(audio) == pytest.approx(TARGET_RMS, rel=0.5)


def test_same_seed_same_audio(backend: DiffusersBackend, rendered: Rendered) -> None:
    again = backend.render(REQUEST, lambda i, n: None)
    assert rendered.audio is not None and again.audio is not None
    assert np.array_equal(rendered.audio, again.audio)

"""CLIPCREW_AUDIO_MODEL: ambience from a text-to-audio pipeline under a video model that makes
no sound. Tiny random-weight Wan and Stable Audio pipelines, built offline, loaded for real."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clipcrew.config import worker_config

pytest.importorskip("diffusers", reason="the engine extra is not installed")

from engine.audio import SAMPLE_RATE, TARGET_RMS, soundtrack
from engine.backends import load_backend, load_configured_backend
from engine.diffusion.ambience import ambience_prompt
from engine.diffusion.backend import DiffusersBackend, DiffusionOptions
from engine.encode import decode_audio, probe_mp4
from engine.pipeline import generate
from engine.request import EngineError, RenderRequest
from tests.engine.diffusion.tiny import build_tiny_wan, tiny_request
from tests.engine.diffusion.tiny_audio import build_tiny_audioldm2, build_tiny_stable_audio
from tests.engine.factories import rms
from tests.factories import small_settings

# Deprecations inside diffusers' own audio pipelines, theirs to fix, that would fail every test
# here under warnings-as-errors: Stable Audio's VAE (AutoencoderOobleck) builds with the old
# weight_norm, and AudioLDM 2 passes `past_key_values` to its GPT-2.
pytestmark = [
    pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`past_key_values` is deprecated:FutureWarning"),
]

REQUEST: RenderRequest = tiny_request(prompt='a cat in space says "hello"', job_id="job-a")


# name -> (builder, the family it loads as, its sample rate, its channels)
AUDIO_MODELS = {
    "stable-audio": (build_tiny_stable_audio, "Stable Audio", 2000, 2),
    "audioldm2": (build_tiny_audioldm2, "AudioLDM 2", 16000, 1),
}


@pytest.fixture(scope="module")
def wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_wan(tmp_path_factory.mktemp("tiny-wan"))


@pytest.fixture(scope="module")
def folders(wan: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return wan, build_tiny_stable_audio(tmp_path_factory.mktemp("tiny-stable-audio"))


@pytest.fixture(scope="module", params=sorted(AUDIO_MODELS))
def backend(
    request: pytest.FixtureRequest, wan: Path, tmp_path_factory: pytest.TempPathFactory
) -> DiffusersBackend:
    build = AUDIO_MODELS[request.param][0]
    audio = build(tmp_path_factory.mktemp(request.param))
    options = DiffusionOptions(model=str(wan), device="cpu", audio_model=str(audio))
    loaded = load_backend("diffusers", options)
    assert isinstance(loaded, DiffusersBackend)
    return loaded


def test_ambience_comes_with_the_frames_about_the_clips_length(backend: DiffusersBackend) -> None:
    assert backend.audio is not None
    expected = next(v for v in AUDIO_MODELS.values() if v[1] == backend.audio.family.name)
    _, _, rate, channels = expected
    rendered = backend.render(REQUEST, lambda i, n: None)
    assert rendered.frames.shape == (9, 64, 64, 3)
    assert rendered.sample_rate == rate and rendered.audio is not None
    assert rendered.audio.shape[0] == channels and rendered.audio.dtype == np.float32
    # Each model rounds to its own latent grid; the soundtrack step fits it exactly.
    assert rendered.audio.shape[1] == pytest.approx(REQUEST.video_duration_s * rate, rel=0.05)
    again = backend.render(REQUEST, lambda i, n: None)
    assert again.audio is not None and np.array_equal(rendered.audio, again.audio)


def test_the_clip_carries_the_ambience_not_the_music(backend: DiffusersBackend) -> None:
    clip = generate(REQUEST, backend)
    assert probe_mp4(clip.data).audio_codec == "aac"
    audio, rate = decode_audio(clip.data)
    assert rate == SAMPLE_RATE
    music = soundtrack(REQUEST, None)
    n = min(audio.shape[1], music.shape[1])
    assert rms(audio[:, :n] - music[:, :n]) > 0.02
    assert rms(audio) == pytest.approx(TARGET_RMS, rel=0.5)


def test_the_setting_reaches_the_backend(folders: tuple[Path, Path], tmp_path: Path) -> None:
    wan, audio = folders
    settings = small_settings(
        tmp_path,
        CLIPCREW_ENGINE="diffusers",
        CLIPCREW_VIDEO_MODEL=str(wan),
        CLIPCREW_DEVICE="cpu",
        CLIPCREW_AUDIO_MODEL=str(audio),
    )
    loaded = load_configured_backend(worker_config(settings))
    assert isinstance(loaded, DiffusersBackend) and loaded.audio is not None


def test_an_audio_model_that_is_not_one_is_a_readable_error(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    wan, _ = folders
    with pytest.raises(EngineError, match="holds a WanPipeline, not a text-to-audio"):
        load_backend("diffusers", DiffusionOptions(model=str(wan), audio_model=str(wan)))
    missing = str(tmp_path / "nothing-here")
    with pytest.raises(EngineError, match="Could not load the audio model"):
        load_backend("diffusers", DiffusionOptions(model=str(wan), audio_model=missing))


def test_the_ambience_prompt_leaves_the_dialogue_to_the_voices() -> None:
    assert ambience_prompt('a cat in space says "hello" and “bye”') == "a cat in space says and"
    assert ambience_prompt('"only words"') == '"only words"'

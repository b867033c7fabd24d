"""CLIPCREW_TTS_VOICE: dialogue spoken by a Piper voice model (a tiny one built offline, loaded
through Piper's real loader and phonemizer) instead of espeak-ng."""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("piper", reason="the engine extra (piper-tts) is not installed")
pytest.importorskip("onnx", reason="the dev extra (onnx) is not installed")

from engine.audio import SAMPLE_RATE
from engine.dialogue import plan_dialogue
from engine.encode import decode_audio
from engine.pipeline import generate
from engine.sketch import SketchBackend
from engine.speech import speak
from tests.engine.factories import rms, small_request, talking_request
from tests.engine.tiny_piper import build_tiny_piper_voice


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tiny_piper_voice(tmp_path_factory.mktemp("piper")))


def no_espeak() -> str:
    """A binary name that is surely not installed: only Piper can speak then."""
    return f"espeak-ng-missing-{uuid.uuid4().hex[:8]}"


def test_a_piper_voice_speaks_each_line_in_its_window(voice: str) -> None:
    cues = plan_dialogue(talking_request())
    track = speak(cues, duration_s=2.0, sample_rate=SAMPLE_RATE, binary=no_espeak(), voice=voice)
    assert track is not None and track.shape == (2 * SAMPLE_RATE,)
    for cue in cues:
        spoken = track[round(cue.speak_at_s * SAMPLE_RATE) : round(cue.end_s * SAMPLE_RATE)]
        assert rms(spoken) > 0.02
    # Nothing before the first line starts.
    assert not track[: round(cues[0].speak_at_s * SAMPLE_RATE)].any()


def test_a_multi_speaker_voice_is_given_a_speaker(tmp_path: Path) -> None:
    many = str(build_tiny_piper_voice(tmp_path, speakers=4))
    cues = plan_dialogue(talking_request())
    track = speak(cues, duration_s=2.0, sample_rate=SAMPLE_RATE, binary=no_espeak(), voice=many)
    assert track is not None and rms(track) > 0.01


def test_a_missing_voice_file_is_logged_and_espeak_speaks_instead(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cues = plan_dialogue(talking_request())
    missing = str(tmp_path / f"{uuid.uuid4().hex}.onnx")
    with caplog.at_level(logging.WARNING):
        nobody = speak(
            cues, duration_s=2.0, sample_rate=SAMPLE_RATE, binary=no_espeak(), voice=missing
        )
    assert nobody is None  # neither Piper nor espeak-ng: captions only
    assert any("Piper voice file does not exist" in r.getMessage() for r in caplog.records)
    if shutil.which("espeak-ng"):
        espeak = speak(cues, duration_s=2.0, sample_rate=SAMPLE_RATE, voice=missing)
        assert espeak is not None and rms(espeak) > 0.01


def test_the_clip_speaks_with_the_piper_voice(voice: str) -> None:
    quiet = decode_audio(generate(small_request(duration_s=2.0), SketchBackend()).data)[0]
    talking = decode_audio(generate(talking_request(), SketchBackend(), voice=voice).data)[0]
    n = min(quiet.shape[1], talking.shape[1])
    assert rms(talking[:, :n] - quiet[:, :n]) > 0.02
    assert np.abs(talking).max() <= 1.0

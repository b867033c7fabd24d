import logging
import shutil
import uuid

import numpy as np
import pytest

from engine.audio import (
    SAMPLE_RATE,
    TARGET_RMS,
    compose_music,
    duck_gain,
    fit_audio,
    mix,
    soundtrack,
)
from engine.dialogue import assign_voices, plan_dialogue
from engine.request import BadRequest, Line
from engine.speech import read_wav, speak
from tests.engine.factories import rms, small_request, talking_request

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


def test_music_is_stereo_float32_exactly_the_clip_long_and_not_silent() -> None:
    request = small_request(duration_s=1.5)
    music = compose_music(request)
    assert music.shape == (2, round(1.5 * SAMPLE_RATE))
    assert music.dtype == np.float32
    assert rms(music) > 0.01


def test_music_follows_the_seed() -> None:
    assert np.array_equal(compose_music(small_request()), compose_music(small_request()))
    assert not np.array_equal(compose_music(small_request()), compose_music(small_request(seed=9)))


def test_soundtrack_is_normalised_and_never_clips() -> None:
    track = soundtrack(small_request(duration_s=2.0), None)
    assert rms(track) == pytest.approx(TARGET_RMS, rel=0.15)
    assert np.abs(track).max() <= 1.0


def test_music_ducks_under_speech() -> None:
    voice = np.zeros(SAMPLE_RATE * 2, dtype=np.float32)
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    voice[SAMPLE_RATE // 2 : SAMPLE_RATE] = 0.3 * np.sin(2 * np.pi * 200 * t)
    gain = duck_gain(voice)
    assert gain[3 * SAMPLE_RATE // 4] == pytest.approx(0.3, abs=0.02)
    assert gain[0] == pytest.approx(1.0) and gain[-1] == pytest.approx(1.0)
    mixed = mix(compose_music(small_request(duration_s=2.0)), voice)
    assert mixed.shape == (2, 2 * SAMPLE_RATE)


def test_dialogue_is_laid_out_in_order_across_the_clip() -> None:
    cues = plan_dialogue(talking_request())
    assert [cue.line.text for cue in cues] == ["I can haz cheeseburger", "No."]
    assert cues[0].start_s == 0 and cues[-1].end_s == pytest.approx(2.0)
    for cue in cues:
        assert cue.start_s <= cue.speak_at_s < cue.speak_until_s <= cue.end_s
    assert cues[0].end_s == pytest.approx(cues[1].start_s)


def test_too_much_dialogue_for_the_clip_is_refused() -> None:
    lines = (Line("word " * 40),)
    with pytest.raises(BadRequest, match=r"clip is 1 s long"):
        plan_dialogue(small_request(dialogue=lines))


def test_speakers_get_distinct_stable_voices() -> None:
    lines = tuple(Line("hi", name) for name in ("Cat", "Dog", "Frog", None))
    voices = assign_voices(lines)
    assert len(set(voices.values())) == 4
    assert assign_voices(lines[:1])["Cat"] == voices["Cat"]


@needs_espeak
def test_speech_is_heard_where_the_lines_are_spoken() -> None:
    request = talking_request()
    cues = plan_dialogue(request)
    track = speak(cues, duration_s=2.0, sample_rate=SAMPLE_RATE)
    assert track is not None and track.shape == (2 * SAMPLE_RATE,)
    first = cues[0]
    spoken = track[round(first.speak_at_s * SAMPLE_RATE) : round(first.end_s * SAMPLE_RATE)]
    assert rms(spoken) > 0.02


@needs_espeak
def test_espeak_output_parses_as_wav() -> None:
    import subprocess

    wav = subprocess.run(["espeak-ng", "--stdout"], input=b"hello", capture_output=True).stdout
    samples, rate = read_wav(wav)
    assert rate > 8000 and samples.dtype == np.float32 and rms(samples) > 0.01


def test_without_espeak_dialogue_is_captions_only(caplog: pytest.LogCaptureFixture) -> None:
    cues = plan_dialogue(talking_request())
    # A fresh name each run: the warning is logged once per binary name per process.
    missing = f"espeak-ng-missing-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.WARNING, logger="engine.speech"):
        assert speak(cues, duration_s=2.0, sample_rate=SAMPLE_RATE, binary=missing) is None
        assert speak(cues, duration_s=2.0, sample_rate=SAMPLE_RATE, binary=missing) is None
    warnings = [r for r in caplog.records if r.getMessage().startswith("speech unavailable")]
    assert len(warnings) == 1
    assert soundtrack(talking_request(), None).shape == (2, 2 * SAMPLE_RATE)


def test_no_dialogue_means_no_speech() -> None:
    assert speak((), duration_s=1.0, sample_rate=SAMPLE_RATE) is None


def tone(hz: float, seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return np.tile(0.5 * np.sin(2 * np.pi * hz * t), (channels, 1)).astype(np.float32)


def peak_hz(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal.mean(axis=0) if signal.ndim == 2 else signal))
    return float(np.fft.rfftfreq(signal.shape[-1], 1 / rate)[int(np.argmax(spectrum))])


def test_a_models_audio_is_resampled_made_stereo_and_fitted_to_the_clip() -> None:
    short_mono = fit_audio(tone(440, 0.5, 16_000), 16_000, duration_s=1.0)
    assert short_mono.shape == (2, SAMPLE_RATE) and short_mono.dtype == np.float32
    assert np.array_equal(short_mono[0], short_mono[1])
    assert peak_hz(short_mono[:, : SAMPLE_RATE // 2], SAMPLE_RATE) == pytest.approx(440, abs=3)
    assert not short_mono[:, SAMPLE_RATE // 2 + 10 :].any()  # padded with silence
    long_stereo = fit_audio(tone(300, 3.0, 24_000, channels=2), 24_000, duration_s=2.0)
    assert long_stereo.shape == (2, 2 * SAMPLE_RATE)


def test_audio_the_mixer_cannot_use_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot use audio"):
        fit_audio(np.zeros((1, 2, 0), np.float32), 16_000, duration_s=1.0)
    with pytest.raises(ValueError, match="0 Hz"):
        fit_audio(tone(440, 0.1, 16_000), 0, duration_s=1.0)


def test_a_bed_replaces_the_music_and_is_normalised() -> None:
    request = small_request(duration_s=2.0)
    bed = fit_audio(tone(440, 2.0, 24_000, channels=2), 24_000, duration_s=2.0)
    track = soundtrack(request, None, bed=bed)
    assert track.shape == (2, 2 * SAMPLE_RATE)
    assert peak_hz(track, SAMPLE_RATE) == pytest.approx(440, abs=2)
    assert rms(track) == pytest.approx(TARGET_RMS, rel=0.15)
    assert np.abs(track).max() <= 1.0
    silent = soundtrack(request, None, bed=np.zeros((2, 2 * SAMPLE_RATE), np.float32))
    assert not silent.any()  # a quiet scene stays quiet: no music is slipped in

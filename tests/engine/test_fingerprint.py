"""The fingerprint survives what chat apps do (480 px, CRF 32, AAC 64 kb/s, a trimmed second)
and tells a clip from another seed, another prompt and unrelated video."""

from __future__ import annotations

from dataclasses import replace

import av
import numpy as np
import pytest

from engine.encode import encode_mp4
from engine.pipeline import generate
from engine.provenance.fingerprint import (
    Fingerprint,
    NotAVideo,
    fingerprint_frames,
    fingerprint_mp4,
)
from engine.provenance.matching import VIDEO_MAX, best_match, compare
from engine.request import RenderRequest
from engine.sketch import SketchBackend
from tests.engine.chat_copy import chat_copy

CLIP = RenderRequest(
    prompt="a cat DJ at a rooftop party",
    seed=11,
    width=640,
    height=480,
    fps=12,
    duration_s=5.0,
    author="@alice",
    job_id="job-fp",
)


@pytest.fixture(scope="module")
def original() -> bytes:
    return generate(CLIP, SketchBackend()).data


@pytest.fixture(scope="module")
def stored(original: bytes) -> Fingerprint:
    return fingerprint_mp4(original)


def unrelated_video(seed: int, *, with_sound: bool) -> bytes:
    """Moving shapes over noise, nothing like a sketch clip, optionally with a hum."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 255, (60, 240, 320, 3), dtype=np.uint8)
    for index, frame in enumerate(frames):
        x = (index * 5) % 280
        frame[80:160, x : x + 40] = (255, 40, 40)
    audio = None
    if with_sound:
        t = np.arange(48_000 * 5) / 48_000
        audio = np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2).astype(np.float32)
    return encode_mp4(frames, audio, fps=12, sample_rate=48_000)


def test_a_fingerprint_is_small_and_round_trips(stored: Fingerprint) -> None:
    data = stored.to_bytes()
    assert len(data) < 1500  # 5 s of picture and sound
    again = Fingerprint.from_bytes(data)
    assert np.array_equal(again.video, stored.video)
    assert np.array_equal(again.audio, stored.audio)
    assert again.duration_s == pytest.approx(5.0)


def test_the_in_memory_fingerprint_agrees_with_the_encoded_file(stored: Fingerprint) -> None:
    frames = SketchBackend().render_frames(CLIP, lambda step, steps: None)
    t = np.arange(48_000 * 5) / 48_000
    silent = fingerprint_frames(frames, CLIP.fps, None, 48_000)
    assert len(silent.audio) == 0
    assert compare(silent, stored).video < VIDEO_MAX / 2
    hum = np.stack([np.sin(2 * np.pi * 440 * t)] * 2).astype(np.float32)
    assert len(fingerprint_frames(frames, CLIP.fps, hum, 48_000).audio) > 100


@pytest.mark.parametrize(
    ("crf", "trim_start_s", "trim_end_s"),
    [(32, 0.0, 0.0), (28, 0.0, 0.0), (32, 1.0, 0.0), (32, 0.0, 1.0), (30, 1.0, 1.0)],
)
def test_a_chat_copy_matches_its_original(
    original: bytes, stored: Fingerprint, crf: int, trim_start_s: float, trim_end_s: float
) -> None:
    copy = chat_copy(original, crf=crf, trim_start_s=trim_start_s, trim_end_s=trim_end_s)
    similarity = compare(fingerprint_mp4(copy), stored)
    assert similarity.matches, similarity
    assert similarity.audio is not None
    assert similarity.offset_s == pytest.approx(trim_start_s, abs=0.2)


def test_other_seeds_prompts_and_unrelated_videos_do_not_match(
    original: bytes, stored: Fingerprint
) -> None:
    others = {
        "another seed": generate(replace(CLIP, seed=12), SketchBackend()).data,
        "another prompt": generate(replace(CLIP, prompt="a dog surfing"), SketchBackend()).data,
        "noise with sound": unrelated_video(1, with_sound=True),
        "noise without sound": unrelated_video(2, with_sound=False),
    }
    for name, data in others.items():
        similarity = compare(fingerprint_mp4(chat_copy(data)), stored)
        assert not similarity.matches, (name, similarity)
    copy = fingerprint_mp4(chat_copy(original, trim_start_s=1.0))
    candidates = [(name, fingerprint_mp4(data)) for name, data in others.items()]
    assert best_match(copy, candidates) is None
    found = best_match(copy, [*candidates, ("original", stored)])
    assert found is not None and found[0] == "original"


def test_files_that_are_not_video_are_refused_with_a_sentence(tmp_path: object) -> None:
    with pytest.raises(NotAVideo, match="not a video"):
        fingerprint_mp4(b"this is a text file, not a clip")
    path = f"{tmp_path}/sound.m4a"
    with av.open(path, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=48_000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), "fltp", "stereo")
        frame.sample_rate = 48_000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with open(path, "rb") as handle, pytest.raises(NotAVideo, match="no video"):
        fingerprint_mp4(handle.read())

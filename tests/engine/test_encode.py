import numpy as np
import pytest

from engine.encode import (
    ClipTooLarge,
    decode_audio,
    decode_video,
    encode_mp4,
    probe_mp4,
    top_level_boxes,
)
from engine.request import EngineError
from tests.engine.factories import rms

FPS, RATE = 12, 48_000


def moving_frames(count: int = 12, size: int = 64) -> np.ndarray:
    """A bright square sliding over a gradient: easy to recognise after a lossy round trip."""
    frames = np.zeros((count, size, size, 3), dtype=np.uint8)
    frames[..., 0] = np.linspace(0, 255, size, dtype=np.uint8)
    for index in range(count):
        x = index * (size - 16) // count
        frames[index, 24:40, x : x + 16] = 255
    return frames


def noisy_frames(count: int = 24, size: int = 128) -> np.ndarray:
    """Noise compresses badly: a clip whose size a bitrate limit really has to squeeze."""
    return np.random.default_rng(0).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


def tone(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    wave = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([wave, wave]).astype(np.float32)


def test_encodes_h264_and_aac_with_the_moov_box_first() -> None:
    frames = moving_frames()
    data = encode_mp4(frames, tone(1.0), fps=FPS, sample_rate=RATE, metadata={"comment": "hi"})
    probe = probe_mp4(data)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    assert (probe.width, probe.height, probe.frames) == (64, 64, 12)
    assert probe.duration_s == pytest.approx(1.0, abs=1 / FPS)
    assert probe.faststart
    assert top_level_boxes(data).index("moov") < top_level_boxes(data).index("mdat")
    assert probe.metadata["comment"] == "hi"


def test_round_trip_keeps_the_picture_and_the_sound() -> None:
    frames = moving_frames()
    data = encode_mp4(frames, tone(1.0), fps=FPS, sample_rate=RATE)
    decoded = decode_video(data)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(np.int16) - frames).mean() < 6
    audio, rate = decode_audio(data)
    assert rate == RATE and audio.shape[0] == 2
    assert rms(audio) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)


def test_same_input_and_settings_decode_to_identical_frames() -> None:
    frames, audio = moving_frames(), tone(1.0)
    first = encode_mp4(frames, audio, fps=FPS, sample_rate=RATE)
    second = encode_mp4(frames, audio, fps=FPS, sample_rate=RATE)
    assert np.array_equal(decode_video(first), decode_video(second))


def test_video_without_audio() -> None:
    probe = probe_mp4(encode_mp4(moving_frames(), None, fps=FPS, sample_rate=RATE))
    assert probe.audio_codec is None


def test_target_bytes_squeezes_the_clip_under_the_limit() -> None:
    frames, audio = noisy_frames(), tone(2.0)
    loose = encode_mp4(frames, audio, fps=FPS, sample_rate=RATE)
    target = len(loose) // 3
    steps: list[tuple[int, int]] = []
    tight = encode_mp4(
        frames,
        audio,
        fps=FPS,
        sample_rate=RATE,
        target_bytes=target,
        on_progress=lambda step, total: steps.append((step, total)),
    )
    assert len(tight) <= target
    assert probe_mp4(tight).frames == len(frames)
    # The first pass and at least one shrinking pass each report their frames.
    assert steps.count(steps[-1]) >= 2


def test_a_clip_that_fits_already_is_not_re_encoded() -> None:
    frames = moving_frames()
    plain = encode_mp4(frames, None, fps=FPS, sample_rate=RATE)
    assert encode_mp4(frames, None, fps=FPS, sample_rate=RATE, target_bytes=10**9) == plain


def test_an_impossible_limit_says_so() -> None:
    with pytest.raises(ClipTooLarge, match="does not fit in 2,000 bytes"):
        encode_mp4(noisy_frames(), tone(2.0), fps=FPS, sample_rate=RATE, target_bytes=2_000)


@pytest.mark.parametrize(
    ("frames", "audio", "message"),
    [
        (np.zeros((2, 64, 64, 3), dtype=np.float32), None, "float32"),
        (np.zeros((2, 63, 64, 3), dtype=np.uint8), None, "64x63"),
        (np.zeros((0, 64, 64, 3), dtype=np.uint8), None, "shaped"),
        (np.zeros((2, 64, 64, 3), dtype=np.uint8), np.zeros(10, dtype=np.float32), "stereo"),
    ],
)
def test_bad_input_is_refused(frames: np.ndarray, audio: np.ndarray | None, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        encode_mp4(frames, audio, fps=FPS, sample_rate=RATE)

"""MP4 in and out with PyAV: H.264 + AAC, moov atom first, optionally squeezed under a size.

FFmpeg's faststart pass reopens the output to move the index to the front, which a BytesIO
cannot do, so the clip is written to a temporary file and read back.
"""

from __future__ import annotations

import io
import math
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.stream import VideoStream

from engine.request import EngineError

_AUDIO_BPS = 128_000
_SMALL_AUDIO_BPS = 48_000
# Below this H.264 is mush; better to say the limit is too small than to send mush.
MIN_VIDEO_BPS = 48_000
_MAX_SHRINK_PASSES = 4
SHRINK_PRESET = "veryfast"
# AAC encodes 1024 samples per frame; feeding it whole frames avoids a partial one mid-clip.
_AUDIO_CHUNK = 1024 * 8


class ClipTooLarge(EngineError):
    """The clip cannot be made to fit the size limit at a watchable quality."""


class UnreadableClip(EngineError):
    """A clip that cannot be read back: damaged, without video, or with frames too large."""


# Reading refuses frames above 4K (4096x2304): a damaged or crafted header may claim 16000x16000,
# which FFmpeg would decode for minutes into gigabytes. Told to FFmpeg, it holds while probing.
MAX_DECODE_PIXELS = 4096 * 2304
_READ_OPTIONS = {"max_pixels": str(MAX_DECODE_PIXELS)}
_DAMAGED = "That clip is damaged and can't be read back. Please ask for it again."


@dataclass(frozen=True)
class Probe:
    video_codec: str
    audio_codec: str | None
    width: int
    height: int
    fps: float
    duration_s: float
    frames: int
    metadata: dict[str, str] = field(default_factory=dict)
    faststart: bool = False


def _x264_asm() -> str | None:
    """x264's instruction sets without AVX-512 on a CPU that has it, else None (x264 picks).

    With its AVX-512 code this build of x264 encoded the same frames differently from one run to
    the next (13 of 30 encodes of a test clip); limited to AVX2 and below, 0 of 25 did. A clip and
    its fingerprint must come out the same for the same request. Every CPU with AVX-512 has the
    sets named here; naming one the CPU lacks would crash the encoder, hence the check.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line for line in info if line.startswith("flags")), "")
    except OSError:
        return None
    if "avx512" not in flags:
        return None
    return "MMX2,SSE,SSE2,SSE3,SSSE3,SSE4.1,SSE4.2,LZCNT,AVX,FMA3,BMI1,BMI2,AVX2"


_X264_ASM = _x264_asm()


@dataclass(frozen=True)
class _Settings:
    """x264 either at constant quality (`crf`) or at an average bitrate (`video_bps`)."""

    preset: str
    crf: int | None = None
    video_bps: int | None = None
    audio_bps: int = _AUDIO_BPS

    def x264_options(self) -> dict[str, str]:
        options = {"preset": self.preset}
        if _X264_ASM is not None:
            options["x264-params"] = f"asm={_X264_ASM}"
        if self.video_bps is None:
            options["crf"] = str(self.crf)
        else:
            # A one-second VBV buffer keeps a single pass close to its average on short clips.
            options |= {"maxrate": str(self.video_bps), "bufsize": str(self.video_bps)}
        return options


def _write(
    path: Path,
    frames: np.ndarray,
    audio: np.ndarray | None,
    *,
    fps: int,
    sample_rate: int,
    metadata: dict[str, str],
    settings: _Settings,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    # use_metadata_tags keeps our own keys (clipcrew_job_id ...), which MP4 otherwise drops.
    options = {"movflags": "+faststart+use_metadata_tags"}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        container.metadata.update(metadata)
        video = container.add_stream("libx264", rate=fps, options=settings.x264_options())
        video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        if settings.video_bps is not None:
            video.bit_rate = settings.video_bps
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=sample_rate, layout="stereo")
            sound.bit_rate = settings.audio_bps
        chunk = max(1, math.ceil(len(frames) / 20))
        for index, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
            if on_progress and ((index + 1) % chunk == 0 or index + 1 == len(frames)):
                on_progress(math.ceil((index + 1) / chunk), math.ceil(len(frames) / chunk))
        container.mux(video.encode(None))
        if sound is not None and audio is not None:
            _write_audio(container, sound, audio, sample_rate)


def _write_audio(
    container: av.container.OutputContainer,
    stream: av.AudioStream,
    audio: np.ndarray,
    sample_rate: int,
) -> None:
    planar = np.ascontiguousarray(audio, dtype=np.float32)
    for start in range(0, planar.shape[1], _AUDIO_CHUNK):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(planar[:, start : start + _AUDIO_CHUNK]),
            format="fltp",
            layout="stereo",
        )
        frame.sample_rate, frame.pts, frame.time_base = sample_rate, start, Fraction(1, sample_rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _encode(
    frames: np.ndarray,
    audio: np.ndarray | None,
    *,
    fps: int,
    sample_rate: int,
    metadata: dict[str, str],
    settings: _Settings,
    on_progress: Callable[[int, int], None] | None,
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="clipcrew-") as folder:
        path = Path(folder) / "clip.mp4"
        _write(
            path,
            frames,
            audio,
            fps=fps,
            sample_rate=sample_rate,
            metadata=metadata,
            settings=settings,
            on_progress=on_progress,
        )
        return path.read_bytes()


def _check(frames: np.ndarray, audio: np.ndarray | None) -> None:
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise EngineError(f"Cannot encode frames shaped {frames.shape} of {frames.dtype}.")
    if frames.shape[1] % 2 or frames.shape[2] % 2:
        raise EngineError(
            f"H.264 in yuv420p needs an even size, not {frames.shape[2]}x{frames.shape[1]}."
        )
    if audio is not None and (audio.ndim != 2 or audio.shape[0] != 2):
        raise EngineError(f"Audio must be stereo shaped (2, samples), not {audio.shape}.")


def encode_mp4(
    frames: np.ndarray,
    audio: np.ndarray | None,
    *,
    fps: int,
    sample_rate: int,
    metadata: dict[str, str] | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    target_bytes: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """Frames (T, H, W, 3) uint8 and audio (2, samples) float32 to an MP4's bytes.

    At constant quality `crf` first; if that is over `target_bytes`, again at a bitrate
    computed from the limit, shrinking until it fits. `on_progress(step, steps)` follows the
    frames of each pass (a shrinking pass reports them again).
    Raises ClipTooLarge when the limit would need a bitrate below MIN_VIDEO_BPS.
    """
    _check(frames, audio)

    def encode(settings: _Settings) -> bytes:
        return _encode(
            frames,
            audio,
            fps=fps,
            sample_rate=sample_rate,
            metadata=metadata or {},
            settings=settings,
            on_progress=on_progress,
        )

    data = encode(_Settings(preset, crf=crf))
    if target_bytes is None or len(data) <= target_bytes:
        return data
    return _shrink(
        encode,
        len(data),
        duration_s=len(frames) / fps,
        target_bytes=target_bytes,
        # At a fixed bitrate the slower preset looks better; this pass is about size.
        preset=SHRINK_PRESET,
        has_audio=audio is not None,
    )


def _shrink(
    encode: Callable[[_Settings], bytes],
    size: int,
    *,
    duration_s: float,
    target_bytes: int,
    preset: str,
    has_audio: bool,
) -> bytes:
    """Re-encode at an average bitrate until the clip fits, aiming lower after each miss."""
    budget_bps = target_bytes * 8 / duration_s
    audio_bps = 0
    if has_audio:
        audio_bps = _AUDIO_BPS if budget_bps > 4 * _AUDIO_BPS else _SMALL_AUDIO_BPS
    # The container and a one-pass encoder's overshoot eat into the budget: start with a margin.
    margin = 0.9
    for _ in range(_MAX_SHRINK_PASSES):
        video_bps = int(budget_bps * margin - audio_bps)
        if video_bps < MIN_VIDEO_BPS:
            break
        data = encode(_Settings(preset, video_bps=video_bps, audio_bps=audio_bps))
        size = len(data)
        if size <= target_bytes:
            return data
        margin *= 0.95 * target_bytes / size
    raise ClipTooLarge(
        f"This {duration_s:g} s clip does not fit in {target_bytes:,} bytes at a watchable "
        f"quality (it was {size:,} bytes): ask for a shorter or smaller clip."
    )


def top_level_boxes(data: bytes) -> list[str]:
    """The MP4's top-level box types in file order, e.g. ["ftyp", "moov", "mdat"]."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:  # a 64-bit size follows the type
            if offset + 16 > len(data):
                break  # cut off inside the header
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - offset
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


@contextmanager
def _reading(data: bytes) -> Iterator[tuple[InputContainer, VideoStream]]:
    """The container and its first video stream, checked before any frame is decoded; every
    failure to read, here or in the caller's block, becomes UnreadableClip."""
    try:
        with av.open(io.BytesIO(data), "r", options=_READ_OPTIONS) as container:
            if not container.streams.video:
                raise UnreadableClip("That file has no video in it.")
            video = container.streams.video[0]
            if video.width * video.height > MAX_DECODE_PIXELS:
                raise UnreadableClip(
                    f"That clip's frames are {video.width:,}x{video.height:,} pixels; "
                    "I read clips up to 4K."
                )
            video.codec_context.options = _READ_OPTIONS
            yield container, video
    except (av.FFmpegError, ValueError, IndexError, ZeroDivisionError) as error:
        raise UnreadableClip(_DAMAGED) from error


def probe_mp4(data: bytes) -> Probe:
    """What an MP4 holds: codecs, size, frame rate, duration, metadata, moov-first.
    UnreadableClip for anything else."""
    boxes = top_level_boxes(data)
    faststart = "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")
    with _reading(data) as (container, video):
        audio = container.streams.audio[0] if container.streams.audio else None
        fps = float(video.average_rate or 0)
        frames = video.frames or sum(1 for _ in container.decode(video))
        if video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        else:
            duration = frames / fps
        return Probe(
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=fps,
            duration_s=duration,
            frames=frames,
            metadata=dict(container.metadata),
            faststart=faststart,
        )


def decode_video(data: bytes) -> np.ndarray:
    """Every frame as (T, H, W, 3) uint8 RGB; UnreadableClip if the clip cannot be read."""
    with _reading(data) as (container, video):
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video)])


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """The audio as (channels, samples) float32 and its sample rate."""
    with _reading(data) as (container, _):
        if not container.streams.audio:
            raise UnreadableClip("That clip has no sound in it.")
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        return np.concatenate(chunks, axis=1).astype(np.float32), stream.rate

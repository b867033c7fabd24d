"""A few frames spread evenly over an uploaded clip, without converting every frame.

Every frame of an H.264 stream has to be decoded to reach the later ones, but turning a frame
into an RGB array costs more than decoding it; only the frames nearest the chosen times are
converted. The length is read from the container first, so a clip that is too long is refused
before any decoding, and checked again while decoding in case the container lied. So is the
frame size: a header may claim 16000x16000 (a few hundred bytes of upload that would take
gigabytes and minutes to decode), so FFmpeg is told the largest frame it may allocate, even
while probing, and a stream that declares more is refused before its first frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np


class VideoUnreadable(Exception):
    """The bytes are not a video PyAV can decode."""


# 4096x2304: any phone's 4K (2160x3840 portrait, 4096x2160 DCI) fits, 10 RGB frames ~280 MB.
MAX_PIXELS = 4096 * 2304


class FrameTooLarge(Exception):
    """The stream declares frames larger than the caller's limit."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"the frames are {width}x{height}")
        self.width, self.height = width, height


class NoVideoStream(VideoUnreadable):
    """A readable file without pictures: sound only, say."""


class VideoTooLong(Exception):
    """The clip runs longer than the caller's limit."""

    def __init__(self, duration_s: float) -> None:
        super().__init__(f"the clip runs {duration_s:.1f} s")
        self.duration_s = duration_s


@dataclass(frozen=True, eq=False)
class SampledVideo:
    # (count, H, W, 3) uint8 RGB, in time order.
    frames: np.ndarray
    # Seconds at which each frame is shown.
    times_s: tuple[float, ...]
    duration_s: float


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def sample_frames(
    data: bytes, *, count: int, max_seconds: float, max_pixels: int = MAX_PIXELS
) -> SampledVideo:
    """`count` frames (fewer if the clip has fewer) evenly spread over the clip.

    Raises VideoUnreadable for anything PyAV cannot open or decode, VideoTooLong past
    `max_seconds`, FrameTooLarge for frames declared larger than `max_pixels`.
    """
    # Every decoder FFmpeg opens, the probing ones included, refuses larger frames.
    options = {"max_pixels": str(max_pixels)}
    try:
        with av.open(io.BytesIO(data), "r", options=options) as container:
            if not container.streams.video:
                raise NoVideoStream("no video stream")
            stream = container.streams.video[0]
            if stream.width * stream.height > max_pixels:
                raise FrameTooLarge(stream.width, stream.height)
            stream.codec_context.options = options
            # Frame-level threads: decoding is the bulk of the work for a long clip.
            stream.thread_type = "AUTO"
            duration = _duration(container, stream)
            if duration is not None and duration > max_seconds:
                raise VideoTooLong(duration)
            return _pick(container, stream, count, duration, max_seconds)
    except (av.FFmpegError, ValueError, IndexError) as error:
        raise VideoUnreadable(str(error)) from error


def _pick(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    count: int,
    duration: float | None,
    max_seconds: float,
) -> SampledVideo:
    # Without a known length, aim at the limit's span; the last frame seen is kept anyway.
    span = duration if duration else max_seconds
    targets = [span * (index + 0.5) / count for index in range(count)]
    picked: list[np.ndarray] = []
    times: list[float] = []
    last: tuple[float, av.VideoFrame] | None = None
    for frame in container.decode(stream):
        time_s = float(frame.time) if frame.time is not None else 0.0
        if time_s > max_seconds:
            raise VideoTooLong(time_s)
        last = (time_s, frame)
        if len(picked) < count and time_s >= targets[len(picked)]:
            picked.append(frame.to_ndarray(format="rgb24"))
            times.append(time_s)
            # With the length known, the rest of the clip holds nothing we sample (and a
            # container that understates its length has hidden frames nobody looks at).
            if len(picked) == count and duration is not None:
                break
    if last is None:
        raise VideoUnreadable("no frames")
    if not picked or (duration is None and times[-1] != last[0]):
        picked.append(last[1].to_ndarray(format="rgb24"))
        times.append(last[0])
    end = duration if duration is not None else last[0]
    return SampledVideo(frames=np.stack(picked), times_s=tuple(times), duration_s=end)

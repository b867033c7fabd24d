"""What a chat app does to a posted clip, done with PyAV (the ffmpeg command is not needed):
a downscale to 480 px, a harsher H.264 encode, AAC at 64 kb/s, and optionally a trim."""

from __future__ import annotations

import io
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def chat_copy(
    data: bytes,
    *,
    side: int = 480,
    crf: int = 32,
    audio_bps: int = 64_000,
    trim_start_s: float = 0.0,
    trim_end_s: float = 0.0,
) -> bytes:
    """`data` re-encoded the way chat apps do: its longer side scaled to `side` pixels (even
    sizes), x264 at `crf`, AAC at `audio_bps`, with `trim_*_s` cut off either end."""
    with av.open(io.BytesIO(data)) as source:
        video = source.streams.video[0]
        fps = video.average_rate or Fraction(24)
        duration = float(video.duration * video.time_base) if video.duration else 0.0
        frames = list(source.decode(video))
    with av.open(io.BytesIO(data)) as source:
        sound = _audio(source)
    duration = duration or len(frames) / float(fps)
    keep = [f for f in frames if trim_start_s <= float(f.time) < duration - trim_end_s - 1e-6]
    width, height = frames[0].width, frames[0].height
    scale = side / max(width, height)
    out_w, out_h = round(width * scale / 2) * 2, round(height * scale / 2) * 2
    with tempfile.TemporaryDirectory(prefix="clipcrew-copy-") as folder:
        path = Path(folder) / "copy.mp4"
        with av.open(str(path), "w", format="mp4") as out:
            stream = out.add_stream(
                "libx264", rate=fps, options={"crf": str(crf), "preset": "veryfast"}
            )
            stream.width, stream.height, stream.pix_fmt = out_w, out_h, "yuv420p"
            sound_out = _audio_stream(out, sound, audio_bps)
            for index, frame in enumerate(keep):
                small = frame.reformat(
                    width=out_w, height=out_h, format="yuv420p", interpolation="AREA"
                )
                small.pts, small.time_base = index, 1 / fps
                out.mux(stream.encode(small))
            out.mux(stream.encode(None))
            if sound is not None and sound_out is not None:
                samples, rate = sound
                first, last = round(trim_start_s * rate), round((duration - trim_end_s) * rate)
                _write_audio(out, sound_out, samples[:, first:last], rate)
        return path.read_bytes()


def _audio(source: av.container.InputContainer) -> tuple[np.ndarray, int] | None:
    if not source.streams.audio:
        return None
    stream = source.streams.audio[0]
    chunks = [f.to_ndarray() for f in source.decode(stream)]
    return np.concatenate(chunks, axis=1).astype(np.float32), stream.rate


def _audio_stream(
    out: av.container.OutputContainer, sound: tuple[np.ndarray, int] | None, bps: int
) -> av.AudioStream | None:
    if sound is None:
        return None
    samples, rate = sound
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    stream = out.add_stream("aac", rate=rate, layout=layout)
    stream.bit_rate = bps
    return stream


def _write_audio(
    out: av.container.OutputContainer, stream: av.AudioStream, samples: np.ndarray, rate: int
) -> None:
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    for start in range(0, samples.shape[1], 1024 * 8):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples[:, start : start + 1024 * 8]), format="fltp", layout=layout
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))

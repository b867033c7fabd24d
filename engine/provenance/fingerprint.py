"""A compact fingerprint of a clip's picture and sound that survives what chat apps do to it.

Picture: 8 samples a second, each a 64-bit perceptual hash (the signs of the lowest 8x8 DCT
coefficients of a 32x32 grey thumbnail, against their median), so a downscale, a harsher
encode or a new frame size barely moves it. Sound: mono at 8 kHz, one 32-bit word every 32 ms
from the energy differences of 33 bands between 300 Hz and 3 kHz across bands and time (the
Haitsma-Kalker scheme), robust to AAC at low bitrates. A trim shifts both sequences: matching
slides one over the other. A 5 s clip's fingerprint is about a kilobyte.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import lru_cache

import av
import numpy as np
from PIL import Image

from engine.request import EngineError

VERSION = 1
VIDEO_RATE = 8.0  # picture samples per second
THUMB = 32
AUDIO_RATE = 8000
AUDIO_FRAME, AUDIO_HOP = 2048, 256  # 256 ms windows every 32 ms
BANDS = 33
LOW_HZ, HIGH_HZ = 300.0, 3000.0
_HEADER = struct.Struct(">BHH")


class NotAVideo(EngineError):
    """The file holds no picture that can be decoded."""


@dataclass(frozen=True)
class Fingerprint:
    video: np.ndarray  # uint64, one hash per 1/VIDEO_RATE s
    audio: np.ndarray  # uint32, one word per AUDIO_HOP samples at AUDIO_RATE; empty: no sound

    @property
    def duration_s(self) -> float:
        return len(self.video) / VIDEO_RATE

    def to_bytes(self) -> bytes:
        head = _HEADER.pack(VERSION, len(self.video), len(self.audio))
        return head + self.video.astype(">u8").tobytes() + self.audio.astype(">u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        version, videos, audios = _HEADER.unpack_from(data)
        if version != VERSION:
            raise ValueError(f"fingerprint version {version}, expected {VERSION}")
        start = _HEADER.size
        video = np.frombuffer(data, ">u8", videos, start).astype(np.uint64)
        audio = np.frombuffer(data, ">u4", audios, start + 8 * videos).astype(np.uint32)
        return cls(video=video, audio=audio)


def fingerprint_mp4(data: bytes) -> Fingerprint:
    """The fingerprint of any video file PyAV can read. Raises NotAVideo when it has no
    decodable picture."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.video:
                raise NotAVideo("That file has no video in it.")
            thumbs = _thumbnails(container)
        with av.open(io.BytesIO(data), "r") as container:
            sound = _mono(container) if container.streams.audio else None
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise NotAVideo("That file is not a video I can read.") from error
    if not len(thumbs):
        raise NotAVideo("That video has no frames I can read.")
    audio = audio_hashes(sound) if sound is not None else np.zeros(0, np.uint32)
    return Fingerprint(video=video_hashes(thumbs), audio=audio)


def fingerprint_frames(
    frames: np.ndarray, fps: float, audio: np.ndarray | None, sample_rate: int
) -> Fingerprint:
    """The fingerprint of a clip still in memory: frames (T, H, W, 3) uint8 RGB at `fps`, audio
    (channels, samples) float at `sample_rate`. Tens of milliseconds where decoding the encoded
    file would take hundreds; it agrees with `fingerprint_mp4` of the encoded file."""
    times = np.arange(len(frames)) / fps
    picks = np.searchsorted(times, np.arange(0, len(frames) / fps, 1 / VIDEO_RATE) - 1e-6)
    picks = picks[picks < len(frames)]
    # Pillow's box filter is the same area average the decoder's path uses, in C; the grey
    # levels' scale does not matter (the hash compares coefficients with their median).
    grey = np.stack(
        [
            np.asarray(
                Image.fromarray(frames[index])
                .resize((THUMB, THUMB), Image.Resampling.BOX, reducing_gap=2.0)
                .convert("L"),
                np.float32,
            )
            for index in picks
        ]
    )
    sound = None
    if audio is not None and audio.size:
        sound = _resample(np.asarray(audio, np.float32).mean(axis=0), sample_rate)
    hashes = audio_hashes(sound) if sound is not None else np.zeros(0, np.uint32)
    return Fingerprint(video=video_hashes(grey), audio=hashes)


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """To AUDIO_RATE by cutting the spectrum: exact enough for band energies, and cheap."""
    if rate == AUDIO_RATE:
        return samples
    count = round(len(samples) * AUDIO_RATE / rate)
    spectrum = np.fft.rfft(samples)[: count // 2 + 1]
    return (np.fft.irfft(spectrum, count) * (count / len(samples))).astype(np.float32)


def _thumbnails(container: av.container.InputContainer) -> np.ndarray:
    """Grey 32x32 thumbnails (area-averaged) of the frames nearest each 1/VIDEO_RATE s."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    thumbs: list[np.ndarray] = []
    start: float | None = None
    for frame in container.decode(stream):
        t = float(frame.time) if frame.time is not None else len(thumbs) / VIDEO_RATE
        start = t if start is None else start
        # The first frame at or after each sample time stands for it.
        if t - start + 0.5 / VIDEO_RATE < len(thumbs) / VIDEO_RATE:
            continue
        grey = frame.to_ndarray(format="gray", width=THUMB, height=THUMB, interpolation="AREA")
        while t - start + 0.5 / VIDEO_RATE >= len(thumbs) / VIDEO_RATE:
            thumbs.append(grey)
    return np.stack(thumbs).astype(np.float32) if thumbs else np.zeros((0, THUMB, THUMB))


def _mono(container: av.container.InputContainer) -> np.ndarray | None:
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
    chunks = [
        out.to_ndarray().reshape(-1)
        for frame in container.decode(stream)
        for out in resampler.resample(frame)
    ]
    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32) if chunks else None


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    n = np.arange(THUMB)
    basis = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / (2 * THUMB))
    return basis[:8].astype(np.float32)  # only the 8 lowest frequencies are kept


def video_hashes(thumbs: np.ndarray) -> np.ndarray:
    """(T, 32, 32) grey thumbnails to T 64-bit hashes."""
    basis = _dct_matrix()
    low = basis @ thumbs @ basis.T  # (T, 8, 8)
    flat = low.reshape(len(thumbs), 64)[:, 1:]  # the mean brightness (DC) says nothing
    bits = flat > np.median(flat, axis=1, keepdims=True)
    return _pack(bits)


@lru_cache(maxsize=1)
def _band_matrix() -> np.ndarray:
    freqs = np.fft.rfftfreq(AUDIO_FRAME, 1 / AUDIO_RATE)
    edges = np.geomspace(LOW_HZ, HIGH_HZ, BANDS + 1)
    bands = np.zeros((len(freqs), BANDS), np.float32)
    for band in range(BANDS):
        bands[(freqs >= edges[band]) & (freqs < edges[band + 1]), band] = 1.0
    return bands


def audio_hashes(samples: np.ndarray) -> np.ndarray:
    """Mono samples at AUDIO_RATE to one 32-bit word per hop (empty when under two frames)."""
    count = 1 + (len(samples) - AUDIO_FRAME) // AUDIO_HOP
    if count < 2:
        return np.zeros(0, np.uint32)
    index = np.arange(AUDIO_FRAME)[None, :] + AUDIO_HOP * np.arange(count)[:, None]
    window = np.hanning(AUDIO_FRAME).astype(np.float32)
    power = np.abs(np.fft.rfft(samples[index] * window, axis=1)) ** 2
    energy = power.astype(np.float32) @ _band_matrix()  # (count, 33)
    across = energy[:, :-1] - energy[:, 1:]  # (count, 32)
    bits = (across[1:] - across[:-1]) > 0
    return _pack(bits).astype(np.uint32)


def _pack(bits: np.ndarray) -> np.ndarray:
    weights = np.uint64(1) << np.arange(bits.shape[1], dtype=np.uint64)
    packed: np.ndarray = (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return packed

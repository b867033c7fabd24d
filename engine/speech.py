"""What dialogue sounds like: espeak-ng, or a Piper voice model when one is configured.

When each line is spoken is planned in `engine.dialogue`; this module turns those cues into a
soundtrack.
"""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess
from collections.abc import Callable

import numpy as np

from engine.dialogue import BASE_WPM, Cue
from engine.piper_speech import is_piper_voice, load_voice, synthesize_piper

logger = logging.getLogger(__name__)

ESPEAK = "espeak-ng"

_warned: set[str] = set()


def speak(
    cues: tuple[Cue, ...],
    *,
    duration_s: float,
    sample_rate: int,
    binary: str = ESPEAK,
    voice: str | None = None,
) -> np.ndarray | None:
    """A mono float32 track `duration_s` long with each cue's line at `speak_at_s`.

    `voice` naming a Piper model file (`.onnx`) speaks with Piper; otherwise, or if that voice
    cannot be loaded (logged), espeak-ng speaks. None when there is nothing to say or `binary`
    is not installed (logged once per binary): the dialogue is then shown as subtitles only.
    """
    if not cues:
        return None
    say = _piper(voice) if is_piper_voice(voice) else None
    if say is None:
        say = _espeak(binary)
    if say is None:
        return None
    track = np.zeros(round(duration_s * sample_rate), dtype=np.float32)
    for cue in cues:
        spoken = say(cue)
        if spoken is None:
            continue
        _place(track, resample(spoken[0], spoken[1], sample_rate), cue, sample_rate)
    return track


# Says one cue: (samples, sample rate), or None when that line failed (it is then skipped).
Synthesizer = Callable[[Cue], tuple[np.ndarray, int] | None]


def _piper(path: str | None) -> Synthesizer | None:
    loaded = load_voice(str(path))
    if loaded is None:
        return None
    return lambda cue: synthesize_piper(loaded, cue, BASE_WPM)


def _espeak(binary: str) -> Synthesizer | None:
    executable = shutil.which(binary)
    if executable is None:
        if binary not in _warned:
            _warned.add(binary)
            logger.warning(
                "speech unavailable: dialogue will be captions only", extra={"binary": binary}
            )
        return None
    return lambda cue: synthesize(executable, cue)


def synthesize(executable: str, cue: Cue) -> tuple[np.ndarray, int] | None:
    """(samples, sample rate) of espeak-ng saying the cue's line; None if espeak-ng fails."""
    command = [
        executable,
        "--stdout",
        "-b",
        "1",
        "-v",
        cue.voice.variant,
        "-p",
        str(cue.voice.pitch),
        "-s",
        str(cue.words_per_minute),
    ]
    try:
        # The text goes in on stdin so a line starting with "-" is never read as an option.
        result = subprocess.run(
            command, input=cue.line.text.encode(), capture_output=True, timeout=30, check=True
        )
        return read_wav(result.stdout)
    except (subprocess.SubprocessError, OSError, ValueError) as error:
        logger.warning("speech synthesis failed", extra={"error": str(error)[:200]})
        return None


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV to mono float32. espeak-ng streams to stdout with placeholder chunk
    sizes, so the data chunk is taken to run to the end of the bytes."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    offset, rate, channels = 12, 0, 1
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        if chunk == b"fmt ":
            fmt, channels, rate, _, _, bits = struct.unpack(
                "<HHIIHH", data[offset + 8 : offset + 24]
            )
            if fmt != 1 or bits != 16:
                raise ValueError(f"unsupported WAV format {fmt}/{bits}-bit")
        elif chunk == b"data":
            pcm = data[offset + 8 :]
            samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
            samples = samples.reshape(-1, channels).mean(axis=1) / 32768.0
            return samples.astype(np.float32), rate
        offset += 8 + size
    raise ValueError("WAV stream has no data chunk")


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear interpolation: plenty for a speech synthesizer's 22 kHz output."""
    if rate == target or samples.size == 0:
        return samples
    length = round(samples.size * target / rate)
    positions = np.arange(length, dtype=np.float64) * (rate / target)
    return np.asarray(np.interp(positions, np.arange(samples.size), samples), dtype=np.float32)


def _place(track: np.ndarray, voice: np.ndarray, cue: Cue, sample_rate: int) -> None:
    """Add `voice` at the cue, cut (with a short fade) where it would run past the cue's end."""
    # espeak-ng pads its output with silence; drop the tail so less of a line is cut.
    audible = np.flatnonzero(np.abs(voice) > 1e-3)
    voice = voice[: audible[-1] + 1] if audible.size else voice[:0]
    start = round(cue.speak_at_s * sample_rate)
    room = max(0, min(round(cue.end_s * sample_rate), track.size) - start)
    if voice.size > room:
        voice = voice[:room].copy()
        fade = min(room, sample_rate // 50)
        voice[room - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    track[start : start + voice.size] += voice

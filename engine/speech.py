"""Dialogue: when each line is spoken (a pure plan) and what it sounds like (espeak-ng, or a
Piper voice model when one is configured).

The plan is a pure function of the request, so the renderer (subtitles, talking mouth) and the
soundtrack both call `plan_dialogue()` and agree on the timing without passing state around.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.piper_speech import is_piper_voice, load_voice, synthesize_piper
from engine.request import BadRequest, Line, RenderRequest

logger = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
# espeak-ng speaks English at about this rate by default; estimates are calibrated to it.
BASE_WPM = 175
# Faster than this and espeak-ng becomes hard to follow: such dialogue is refused, not garbled.
MAX_SPEEDUP = 1.6
# Share of the clip left as breathing room around the lines.
_BREATHING = 0.1


@dataclass(frozen=True)
class Voice:
    variant: str  # an espeak-ng voice with a variant, e.g. "en+f2"
    pitch: int  # espeak-ng pitch, 0..99


# Ordered so that neighbours differ in gender and pitch.
VOICES = (
    Voice("en+m3", 45),
    Voice("en+f2", 65),
    Voice("en+m1", 25),
    Voice("en+f4", 80),
    Voice("en+m7", 55),
    Voice("en+f1", 50),
    Voice("en+m5", 35),
    Voice("en+f5", 70),
)


@dataclass(frozen=True)
class Cue:
    """One dialogue line in time: the subtitle shows from `start_s` to `end_s`; the voice
    speaks from `speak_at_s` to about `speak_until_s` (an estimate) at `words_per_minute`, and
    is cut at `end_s` at the latest."""

    line: Line
    start_s: float
    end_s: float
    speak_at_s: float
    speak_until_s: float
    voice: Voice
    words_per_minute: int

    def active(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


def estimate_seconds(text: str) -> float:
    """Roughly how long espeak-ng takes to say `text` at its default rate (measured)."""
    return 0.35 + 0.055 * len(text)


def assign_voices(lines: tuple[Line, ...]) -> dict[str | None, Voice]:
    """A voice per speaker, stable across clips (a hash of the name) and distinct within one."""
    voices: dict[str | None, Voice] = {}
    for line in lines:
        if line.speaker in voices:
            continue
        name = (line.speaker or "").strip().lower()
        index = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % len(VOICES)
        taken = set(voices.values())
        # Probe onwards so two speakers in one clip never share a voice (while voices last).
        for step in range(len(VOICES)):
            candidate = VOICES[(index + step) % len(VOICES)]
            if candidate not in taken:
                break
        voices[line.speaker] = candidate
    return voices


def plan_dialogue(request: RenderRequest) -> tuple[Cue, ...]:
    """Lay the lines out across the clip, each in a window proportional to its length.

    Raises BadRequest if the lines cannot be said in the clip even when spoken quickly.
    """
    lines = request.dialogue
    if not lines:
        return ()
    needs = [estimate_seconds(line.text) for line in lines]
    speakable = request.duration_s * (1 - _BREATHING)
    speedup = max(1.0, sum(needs) / speakable)
    if speedup > MAX_SPEEDUP:
        raise BadRequest(
            f"The dialogue needs about {sum(needs) / MAX_SPEEDUP:.1f} s of speech but the clip "
            f"is {request.duration_s:g} s long: shorten the lines or ask for a longer clip."
        )
    voices = assign_voices(lines)
    scale = request.duration_s / sum(needs)
    cues = []
    start = 0.0
    for line, need in zip(lines, needs, strict=True):
        window = need * scale
        spoken = need / speedup
        # Speech sits early in its window so the subtitle lingers after it, for slow readers.
        speak_at = start + (window - spoken) * 0.25
        wpm = round(BASE_WPM * speedup)
        cue = Cue(
            line, start, start + window, speak_at, speak_at + spoken, voices[line.speaker], wpm
        )
        cues.append(cue)
        start += window
    return tuple(cues)


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

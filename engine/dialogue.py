"""Dialogue in time: which voice says each line and when (a pure plan).

The plan is a pure function of the request, so the renderer (subtitles, talking mouth) and the
soundtrack both call `plan_dialogue()` and agree on the timing without passing state around.
Both synthesizers (espeak-ng in `engine.speech`, Piper in `engine.piper_speech`) speak these
cues, so the types live here rather than in either of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from engine.request import BadRequest, Line, RenderRequest

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

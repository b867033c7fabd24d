"""What the pipeline is asked for and what it gives back: plain frozen data."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.api import DEFAULT_NUDITY_THRESHOLD

if TYPE_CHECKING:
    # The bot process imports this module too and must not load numpy (tests/test_process.py).
    import numpy as np


class EngineError(Exception):
    """Base of the engine's errors. `str(error)` is a sentence a person can read in the chat."""


class BadRequest(EngineError):
    """A request the engine refuses as given (a bad size, duration or frame count)."""


class Cancelled(EngineError):
    """The job was cancelled while it ran."""


@dataclass(frozen=True)
class Line:
    """One piece of quoted dialogue from the prompt: `"hi"` or `Cat: "hi"`."""

    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class CameoRef:
    """A consenting person's likeness for one clip: what the engine puts in the picture."""

    cameo_id: int
    # How the clip names them (@username), shown under a composited face.
    name: str
    # Added to the model's prompt: "always wearing a red hat".
    preferences: str = ""
    # PNG reference crops of the face, from turned left to turned right.
    crops: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class RenderRequest:
    prompt: str
    seed: int
    width: int = 512
    height: int = 512
    fps: int = 24
    duration_s: float = 5.0
    dialogue: tuple[Line, ...] = ()
    # Shown in the visible watermark: who asked for this clip.
    author: str = ""
    # Written into the MP4's metadata as provenance.
    job_id: str = ""
    # Model engines count in frames and denoising steps; None takes the length from duration_s
    # and the steps from the model family's default.
    frames: int | None = None
    steps: int | None = None
    cameos: tuple[CameoRef, ...] = ()
    # The chat policy's limit for the nudity check on the finished frames (a score above it
    # blocks the clip); None is the strict preset's. ALLOWED (1.0) skips the check.
    nudity_threshold: float | None = None

    @property
    def nudity_limit(self) -> float:
        if self.nudity_threshold is None:
            return DEFAULT_NUDITY_THRESHOLD
        return self.nudity_threshold

    @property
    def model_prompt(self) -> str:
        """The prompt a model reads: the person's, plus each cameo owner's preferences."""
        extras = [f"{c.name} {c.preferences}" for c in self.cameos if c.preferences]
        return "; ".join([self.prompt, *extras])

    @property
    def frame_count(self) -> int:
        if self.frames is not None:
            return self.frames
        return max(1, round(self.duration_s * self.fps))

    @property
    def video_duration_s(self) -> float:
        """The clip's real length: `duration_s` rounded to a whole number of frames."""
        return self.frame_count / self.fps

    @property
    def prompt_sha256(self) -> str:
        """Identifies the prompt in provenance metadata without repeating it."""
        return hashlib.sha256(self.prompt.encode()).hexdigest()

    def seed_for(self, purpose: str) -> int:
        """A 64-bit seed for one kind of random choice ("palette", "music", ...).

        Drawn from prompt and seed together, so the same request always renders the same clip,
        and the picture and the sound draw independently of each other.
        """
        key = f"{purpose}\0{self.seed}\0{self.prompt}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


@dataclass(frozen=True)
class ClipDefaults:
    """What an engine makes when the request leaves a value open: a model family's own size,
    frame rate, length (in frames), denoising steps and guidance (model engines only)."""

    width: int
    height: int
    fps: int
    frames: int
    steps: int | None = None
    guidance: float | None = None

    def describe(self) -> str:
        text = f"{self.width}x{self.height}, {self.frames} frames at {self.fps} fps"
        if self.steps is not None:
            text += f", {self.steps} steps"
        if self.guidance is not None:
            text += f", guidance {self.guidance:g}"
        return text


@dataclass(frozen=True)
class ClipShape:
    """Size, rate and length after the engine's defaults filled what was left open. `frames`
    is set when the length is a frame count (given, or the family's own)."""

    width: int
    height: int
    fps: int
    duration_s: float
    frames: int | None = None


def clip_shape(
    defaults: ClipDefaults,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: int | None = None,
    duration_s: float | None = None,
    frames: int | None = None,
) -> ClipShape:
    """Explicit values win (and are validated later, naming any bad one); the rest come from
    `defaults`. A frame count, where given, is the length; seconds are counted at the rate."""
    rate = fps or defaults.fps
    if frames is None and duration_s is None:
        frames = defaults.frames
    length = frames / rate if frames is not None else duration_s
    assert length is not None
    return ClipShape(
        width=width or defaults.width,
        height=height or defaults.height,
        fps=rate,
        duration_s=length,
        frames=frames,
    )


@dataclass(frozen=True)
class StageProgress:
    """Progress inside the pipeline: stage name, its step i of n, and the overall fraction."""

    stage: str
    step: int
    steps: int
    fraction: float
    # A small JPEG of the picture so far, a few times per render (engine.previews).
    preview: bytes | None = None


# Called from the rendering thread; returning normally continues, raising Cancelled stops.
ProgressCallback = Callable[[StageProgress], None]


@dataclass(frozen=True)
class Rendered:
    """What a video backend makes: frames, and the sound it made with them, if any.

    `frames` is (frame_count, height, width, 3) uint8 RGB. `audio` is float32 shaped
    (channels, samples) at `sample_rate`, of any length: the soundtrack step resamples it and
    fits it to the clip. A backend without sound leaves both None and gets the synthesized music.
    """

    frames: np.ndarray
    audio: np.ndarray | None = None
    sample_rate: int | None = None


@dataclass(frozen=True)
class EncodedClip:
    data: bytes
    width: int
    height: int
    fps: int
    duration_s: float
    has_audio: bool
    engine: str
    # engine.provenance.fingerprint of the finished frames and sound (bytes; empty: not taken),
    # kept with the clip so a re-encoded copy can be traced back to it.
    fingerprint: bytes = b""

    @property
    def size_bytes(self) -> int:
        return len(self.data)

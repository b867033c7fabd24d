"""Dialogue spoken by a Piper voice (CLIPCREW_TTS_VOICE=/path/voice.onnx) instead of espeak-ng.

Piper (the `piper-tts` package, in the `engine` extra) runs an ONNX voice model on the CPU and
phonemizes with its own bundled espeak-ng data: no network, no system binary. A voice loads once
per process and is kept.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from engine.dialogue import Cue

logger = logging.getLogger(__name__)

# One synthesis at a time per voice: an ONNX session is shared by the worker's job threads.
_lock = threading.Lock()


def is_piper_voice(voice: str | None) -> bool:
    """A Piper voice is named by its model file; its config lies beside it (`.onnx.json`)."""
    return bool(voice) and str(voice).endswith(".onnx")


@lru_cache(maxsize=2)
def load_voice(path: str) -> Any:
    """The voice, or None (logged) when it cannot be loaded: dialogue then falls back."""
    try:
        from piper import PiperVoice
    except ImportError:
        logger.warning("piper-tts is not installed: pip install 'clipcrew[engine]'")
        return None
    if not Path(path).is_file():
        logger.warning("the Piper voice file does not exist", extra={"voice": path})
        return None
    try:
        return PiperVoice.load(path)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        logger.warning("the Piper voice could not be loaded", extra={"error": str(error)[:200]})
        return None


def synthesize_piper(voice: Any, cue: Cue, base_wpm: int) -> tuple[np.ndarray, int] | None:
    """(samples, sample rate) of `voice` saying the cue's line at the cue's pace."""
    from piper import SynthesisConfig

    # Piper has no pitch control; a multi-speaker voice gives each speaker its own voice.
    speakers = int(voice.config.num_speakers)
    name = (cue.line.speaker or "").strip().lower().encode()
    speaker = int.from_bytes(hashlib.sha256(name).digest()[:4], "big") % speakers
    config = SynthesisConfig(
        speaker_id=speaker if speakers > 1 else None,
        # Above 1 is slower: the plan speeds lines up when they are tight for the clip.
        length_scale=base_wpm / cue.words_per_minute,
    )
    try:
        with _lock:
            chunks = [chunk.audio_float_array for chunk in voice.synthesize(cue.line.text, config)]
    except (RuntimeError, ValueError) as error:
        logger.warning("Piper synthesis failed", extra={"error": str(error)[:200]})
        return None
    if not chunks:
        return None
    return np.concatenate(chunks).astype(np.float32), int(voice.config.sample_rate)

"""Comparing fingerprints: slide the copy over the original and take the best alignment.

The thresholds come from bench/verify.py: a copy re-encoded at 480 px, CRF 28-32, AAC 64 kb/s
and trimmed differs from its original in 2-9 % of the picture bits and 20-30 % of the sound
bits; a different clip in 12 % or more of the picture bits (other sketch clips, which share a
layout; unrelated video about half) and about half of the sound bits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from engine.provenance.fingerprint import AUDIO_HOP, AUDIO_RATE, VIDEO_RATE, Fingerprint

# Mean fraction of differing bits at the best alignment, at most.
VIDEO_MAX = 0.10
AUDIO_MAX = 0.35
# A copy without sound (or an original without) has only its picture to go by: stricter, since
# other sketch clips come as close as 0.12.
VIDEO_ALONE_MAX = 0.08
# A copy must overlap its original by this much (or most of the shorter of the two).
MIN_OVERLAP_S = 2.0
_VIDEO_BITS, _AUDIO_BITS = 63, 32
_AUDIO_STEP_S = AUDIO_HOP / AUDIO_RATE

K = TypeVar("K")


@dataclass(frozen=True)
class Similarity:
    video: float  # fraction of picture bits that differ, 0..1
    audio: float | None  # the same for the sound; None when either has none
    offset_s: float  # where the copy starts in the original
    overlap_s: float

    @property
    def matches(self) -> bool:
        if self.audio is None:
            return self.video <= VIDEO_ALONE_MAX
        return self.video <= VIDEO_MAX and self.audio <= AUDIO_MAX


def compare(copy: Fingerprint, original: Fingerprint) -> Similarity:
    video, shift, overlap = _best(
        copy.video,
        original.video,
        _VIDEO_BITS,
        _min_overlap(len(copy.video), len(original.video), VIDEO_RATE),
    )
    offset_s = shift / VIDEO_RATE
    audio = None
    if len(copy.audio) and len(original.audio) and video <= VIDEO_MAX:
        # The sound is searched only around the picture's alignment (half a second either way).
        centre = round(offset_s / _AUDIO_STEP_S)
        reach = round(0.5 / _AUDIO_STEP_S)
        audio, _, _ = _best(
            copy.audio,
            original.audio,
            _AUDIO_BITS,
            _min_overlap(len(copy.audio), len(original.audio), 1 / _AUDIO_STEP_S),
            shifts=range(centre - reach, centre + reach + 1),
        )
    return Similarity(video=video, audio=audio, offset_s=offset_s, overlap_s=overlap / VIDEO_RATE)


def best_match(
    copy: Fingerprint, originals: Iterable[tuple[K, Fingerprint]]
) -> tuple[K, Similarity] | None:
    """The closest original that matches, or None."""
    best: tuple[K, Similarity] | None = None
    for key, original in originals:
        similarity = compare(copy, original)
        if similarity.matches and (best is None or similarity.video < best[1].video):
            best = (key, similarity)
    return best


def _min_overlap(a: int, b: int, rate: float) -> int:
    return max(2, min(round(MIN_OVERLAP_S * rate), round(0.6 * min(a, b))))


def _best(
    copy: np.ndarray,
    original: np.ndarray,
    bits: int,
    min_overlap: int,
    shifts: range | None = None,
) -> tuple[float, int, int]:
    """(fraction of differing bits, shift, overlap) at the best shift: copy[i] ~ original[i +
    shift]. 1.0 when no shift overlaps enough."""
    if len(copy) < min_overlap or len(original) < min_overlap:
        return 1.0, 0, 0
    distance = np.bitwise_count(copy[:, None] ^ original[None, :]).astype(np.float32)
    if shifts is None:
        shifts = range(-(len(copy) - min_overlap), len(original) - min_overlap + 1)
    offsets = np.arange(shifts.start, shifts.stop)
    # Every shift's diagonal at once: column i + shift of row i, where it exists.
    rows = np.arange(len(copy))[:, None]
    columns = rows + offsets[None, :]
    inside = (columns >= 0) & (columns < len(original))
    picked = np.where(inside, distance[rows, np.clip(columns, 0, len(original) - 1)], 0.0)
    counts = inside.sum(axis=0)
    usable = counts >= min_overlap
    if not usable.any():
        return 1.0, 0, 0
    errors = np.where(usable, picked.sum(axis=0) / np.maximum(counts, 1) / bits, np.inf)
    best = int(np.argmin(errors))
    return float(errors[best]), int(offsets[best]), int(counts[best])

"""The check run on every finished clip: whose enrolled faces does it show?

A few frames spread over the clip are searched for faces; each face found is embedded and
compared with every enrolled embedding, and each enrolled key keeps its smallest distance.
What to do with the answer (refuse a clip that shows someone who did not consent, confirm
that a cameo really appears) is the caller's decision; this module only measures.

Cost grows with the number of sampled frames and faces, not with the clip's length (apart from
decoding); see DEFAULT_SAMPLES and DETECT_SIDE for the figures. With nothing enrolled there is
nothing to look for, and nothing is decoded, detected or embedded.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from PIL import Image

from engine.faces.types import Box, Embedding, Face, FaceAnalyzer
from engine.faces.video import sample_frames

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

# The goal: at most 0.3 s per 5 s clip with dlib on a 2-core CPU, so the check never holds up
# a post. Decoding a 5 s 512x512 clip costs about 80 ms, detecting faces about 35 ms per 512 px
# frame, and embedding about 95 ms per face whatever the frame's size (bench/output_check.py).
# One frame meets the goal (about 0.21 s); two come to about 0.34 s but do not hang the verdict
# on a single frame.
DEFAULT_SAMPLES = 2
# Frames with a longer side than this are scaled down to it for detection only (faces are still
# embedded from the full frame). dlib finds faces from about 80 px, so this drops faces under
# 80 * long side / DETECT_SIDE px. At 512 px it saves little (35 -> 12 ms per frame at 384 px,
# against 95 ms per face to embed), so by default frames are searched at full size.
DETECT_SIDE: int | None = None
# Finished clips are short; this only guards against decoding something absurd.
MAX_SECONDS = 120.0


@dataclass(frozen=True, eq=False)
class OutputScan(Generic[K]):
    """Which enrolled faces a clip shows, and how closely."""

    # Each enrolled key's smallest distance to any face seen; keys with no comparable face
    # (none seen, or an embedding from another backend) are absent.
    distances: Mapping[K, float]
    # Keys whose distance is below the analyzer's threshold: the clip shows that person.
    matches: frozenset[K]
    frames_sampled: int
    faces_seen: int
    # The analyzer's threshold, kept so that `similarity` reads on the same scale.
    threshold: float

    def similarity(self, key: K) -> float:
        """How much the clip's closest face looks like `key`'s, from 0 (not at all) to 1.

        The distance mapped linearly: 1 at distance 0, 0.5 at the analyzer's threshold (so
        above 0.5 is a match), 0 at twice the threshold or more, and 0 when no face compared.
        """
        distance = self.distances.get(key, math.inf)
        return min(1.0, max(0.0, 1.0 - distance / (2 * self.threshold)))


def scan_clip(
    video: bytes,
    analyzer: FaceAnalyzer,
    enrolled: Sequence[tuple[K, Embedding]],
    *,
    samples: int = DEFAULT_SAMPLES,
    detect_side: int | None = DETECT_SIDE,
    max_seconds: float = MAX_SECONDS,
) -> OutputScan[K]:
    """Scan `samples` frames spread evenly over an encoded clip (see `scan_frames`).

    Raises engine.faces.video.VideoUnreadable, VideoTooLong or FrameTooLarge for a clip it
    cannot read.
    """
    _check_options(samples, detect_side)
    usable = _comparable(enrolled, analyzer)
    if not usable:
        return _nothing(analyzer)
    frames = sample_frames(video, count=samples, max_seconds=max_seconds).frames
    return _scan(frames, analyzer, usable, detect_side)


def scan_frames(
    frames: np.ndarray,
    analyzer: FaceAnalyzer,
    enrolled: Sequence[tuple[K, Embedding]],
    *,
    samples: int = DEFAULT_SAMPLES,
    detect_side: int | None = DETECT_SIDE,
) -> OutputScan[K]:
    """Scan `samples` of the (N, H, W, 3) uint8 `frames`, spread evenly, for enrolled faces.

    `enrolled` holds (key, embedding) pairs; a key may appear more than once (say, one person's
    old and new embeddings) and keeps its best distance. Embeddings from another backend than
    `analyzer` are skipped with a logged warning. With `detect_side`, frames whose long side is
    larger are scaled down to it for detection only; faces are embedded from the full frame.
    """
    _check_options(samples, detect_side)
    if frames.ndim != 4:
        raise ValueError(f"frames must be an (N, H, W, 3) array, got shape {frames.shape}")
    usable = _comparable(enrolled, analyzer)
    if not usable:
        return _nothing(analyzer)
    count = min(samples, len(frames))
    # The middle of each of `count` equal stretches, as sample_frames picks them.
    picks = [int((index + 0.5) * len(frames) / count) for index in range(count)]
    return _scan(frames[picks], analyzer, usable, detect_side)


def _check_options(samples: int, detect_side: int | None) -> None:
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if detect_side is not None and detect_side < 1:
        raise ValueError(f"detect_side must be a positive number of pixels, got {detect_side}")


def _nothing(analyzer: FaceAnalyzer) -> OutputScan[K]:
    return OutputScan(
        distances={},
        matches=frozenset(),
        frames_sampled=0,
        faces_seen=0,
        threshold=analyzer.threshold,
    )


def _comparable(
    enrolled: Sequence[tuple[K, Embedding]], analyzer: FaceAnalyzer
) -> list[tuple[K, Embedding]]:
    """The pairs `analyzer` can compare; an old cameo from another model must not block clips."""
    usable = []
    for key, embedding in enrolled:
        if embedding.backend == analyzer.name:
            usable.append((key, embedding))
        else:
            logger.warning(
                "skipping the face of %r in the output check: it was enrolled with the %s "
                "face model, the check uses %s",
                key,
                embedding.backend,
                analyzer.name,
            )
    return usable


def _scan(
    frames: np.ndarray,
    analyzer: FaceAnalyzer,
    enrolled: list[tuple[K, Embedding]],
    detect_side: int | None,
) -> OutputScan[K]:
    best: dict[K, float] = {}
    faces_seen = 0
    for frame in frames:
        for face in _detect(analyzer, frame, detect_side):
            faces_seen += 1
            embedding = analyzer.embed(frame, face)
            for key, reference in enrolled:
                distance = analyzer.distance(embedding, reference)
                if distance < best.get(key, math.inf):
                    best[key] = distance
    return OutputScan(
        distances=best,
        matches=frozenset(key for key, value in best.items() if value < analyzer.threshold),
        frames_sampled=len(frames),
        faces_seen=faces_seen,
        threshold=analyzer.threshold,
    )


def _detect(analyzer: FaceAnalyzer, frame: np.ndarray, detect_side: int | None) -> list[Face]:
    """Faces in `frame`, found on a copy scaled down to `detect_side` if it is larger."""
    height, width = frame.shape[:2]
    if detect_side is None or max(height, width) <= detect_side:
        return analyzer.detect(frame)
    scale = max(height, width) / detect_side
    size = (round(width / scale), round(height / scale))
    small = np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR))
    return [_scaled(face, scale) for face in analyzer.detect(small)]


def _scaled(face: Face, scale: float) -> Face:
    """A face found on a scaled-down frame, moved back to the full frame's pixels."""
    box = face.box
    landmarks = face.landmarks * scale
    landmarks.setflags(write=False)
    return Face(
        box=Box(
            round(box.left * scale),
            round(box.top * scale),
            round(box.right * scale),
            round(box.bottom * scale),
        ),
        landmarks=landmarks,
        yaw_degrees=face.yaw_degrees,
        sharpness=face.sharpness,
        size=face.size * scale,
    )

"""Selfie-clip verification for a cameo: "it really is you, and it is a live head".

`verify_selfie` is a pure function of the clip's bytes, a face analyzer and the embeddings
already enrolled by other people. It reads top to bottom in numbered steps; each check that
fails raises its own `EnrollmentRefused` subclass, whose message tells the person what to do
differently. Nothing here stores anything: the caller keeps the `Enrollment` it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from engine.api import EnrollmentLimits
from engine.faces.types import Embedding, Face, FaceAnalyzer
from engine.faces.video import (
    FrameTooLarge,
    NoVideoStream,
    VideoTooLong,
    VideoUnreadable,
    sample_frames,
)
from engine.request import EngineError

_TRY_AGAIN = "Please record a new clip: face the camera, say the code, turn left, then right."

DEFAULT_LIMITS = EnrollmentLimits()


class EnrollmentRefused(EngineError):
    """The selfie clip does not pass one of the checks; the message says which and why."""


class UnreadableVideo(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__(f"I could not read that video. {_TRY_AGAIN}")


class SoundOnly(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__(f"That file has sound but no picture. {_TRY_AGAIN}")


class StillPicture(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__(f"That is a still picture, not a video. {_TRY_AGAIN}")


class FramesTooLarge(EnrollmentRefused):
    def __init__(self, width: int, height: int) -> None:
        super().__init__(
            f"That video's frames are {width:,}x{height:,} pixels; I take up to 4K. "
            "Please record it with your phone's ordinary camera."
        )


class VideoTooLarge(EnrollmentRefused):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"That video is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB. "
            "A short clip of a few seconds is all it takes."
        )


class ClipTooLong(EnrollmentRefused):
    def __init__(self, duration_s: float, limit_s: float) -> None:
        super().__init__(
            f"That clip runs {duration_s:.0f} s; please keep it under {limit_s:.0f} s."
        )


class ClipTooShort(EnrollmentRefused):
    def __init__(self, duration_s: float, limit_s: float) -> None:
        super().__init__(
            f"That clip is only {duration_s:.1f} s; I need at least {limit_s:g} s "
            "to see you turn your head."
        )


class NoFace(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__(f"I could not find your face in most of the clip. {_TRY_AGAIN}")


class SeveralFaces(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__(
            "I see more than one face in the clip. Please record it alone in the picture."
        )


class FaceTooSmall(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__("Your face is too small in the clip. Please hold the camera closer.")


class FaceBlurry(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__(
            "Your face is too blurry in the clip. Please record in better light "
            "and hold the camera steady."
        )


class DifferentPeople(EnrollmentRefused):
    def __init__(self) -> None:
        super().__init__(
            "The face changes during the clip; it has to be you, and only you, throughout."
        )


class StillPhoto(EnrollmentRefused):
    """No real head movement: either too little turn, or a flat picture moved about."""


class TooLittleTurn(StillPhoto):
    def __init__(self, measured: float, needed: float) -> None:
        super().__init__(
            f"I saw your head turn only about {measured:.0f} degrees; please turn it "
            f"clearly left and then right (at least {needed:.0f} degrees)."
        )


class FlatPicture(StillPhoto):
    def __init__(self) -> None:
        super().__init__(
            "This looks like a photo or a screen held up to the camera, not a live face. "
            f"{_TRY_AGAIN}"
        )


class LooksLikeSomeoneElse(EnrollmentRefused):
    def __init__(self) -> None:
        # Names no one: saying whose cameo it resembles would leak who is enrolled.
        super().__init__(
            "This face looks like someone who already has a cameo, so I can't enroll it. "
            "If that is really you, ask an admin for help."
        )


@dataclass(frozen=True, eq=False)
class Enrollment:
    """What a passed selfie clip leaves: the identity, a few crops and the figures measured."""

    embedding: Embedding
    # RGB uint8 crops around the face, from the most left-turned to the most right-turned.
    crops: tuple[np.ndarray, ...]
    # The measured head turn, degrees, least and most.
    yaw_range: tuple[float, float]
    duration_s: float
    frames_sampled: int
    frames_with_one_face: int
    # Largest distance between two sampled frames' embeddings (below the backend's threshold).
    identity_spread: float
    # Largest landmark error left by the best homography, relative to the face size.
    planar_error: float
    # Largest landmark motion from the first sampled frame, relative to the face size.
    motion: float
    median_face_px: float
    median_sharpness: float
    # Smallest distance to another person's enrolled embedding (inf when none).
    nearest_other: float

    @property
    def yaw_span(self) -> float:
        return self.yaw_range[1] - self.yaw_range[0]


@dataclass(frozen=True, eq=False)
class _Seen:
    """One sampled frame with exactly one face."""

    image: np.ndarray
    face: Face


def verify_selfie(
    video: bytes,
    analyzer: FaceAnalyzer,
    *,
    enrolled: Sequence[tuple[str, Embedding]] = (),
    limits: EnrollmentLimits = DEFAULT_LIMITS,
) -> Enrollment:
    """Check a selfie clip and return the enrollment, or raise an `EnrollmentRefused`.

    `enrolled` holds (owner, embedding) for everyone else's cameos; a match refuses the clip
    without naming the owner. The spoken code is not checked here.
    """
    # 1. A readable video within size and length limits, sampled at a few frames.
    frames, duration_s = _sample(video, limits)
    # 2. Exactly one face, large and sharp enough, in most frames.
    seen = _one_face_frames(frames, analyzer, limits)
    _check_size_and_focus(seen, limits)
    # 3. The same person throughout.
    embeddings = [analyzer.embed(item.image, item.face) for item in seen]
    spread = max((analyzer.distance(a, b) for a, b in combinations(embeddings, 2)), default=0.0)
    if spread >= analyzer.threshold:
        raise DifferentPeople()
    # 4. A live head: it moved like a solid turning head, not like a flat picture.
    planar_error, motion = _check_live_head(seen, limits)
    yaws = [item.face.yaw_degrees for item in seen]
    # 5. Nobody else's cameo.
    mean = mean_embedding(embeddings)
    nearest = min((analyzer.distance(mean, other) for _, other in enrolled), default=np.inf)
    if nearest < analyzer.threshold:
        raise LooksLikeSomeoneElse()
    return Enrollment(
        embedding=mean,
        crops=_reference_crops(seen, limits.reference_crops),
        yaw_range=(min(yaws), max(yaws)),
        duration_s=duration_s,
        frames_sampled=len(frames),
        frames_with_one_face=len(seen),
        identity_spread=spread,
        planar_error=planar_error,
        motion=motion,
        median_face_px=float(np.median([item.face.size for item in seen])),
        median_sharpness=float(np.median([item.face.sharpness for item in seen])),
        nearest_other=float(nearest),
    )


def _check_live_head(seen: list[_Seen], limits: EnrollmentLimits) -> tuple[float, float]:
    """(planar error, motion) of a head that passes both still-photo tests."""
    # The planar test first: a flat photo tilted toward the camera can fake some yaw.
    planar_error, motion = planar_fit([item.face for item in seen])
    if motion >= limits.planar_min_motion and planar_error < limits.planar_max_error:
        raise FlatPicture()
    yaws = [item.face.yaw_degrees for item in seen]
    if max(yaws) - min(yaws) < limits.min_yaw_range_degrees:
        raise TooLittleTurn(max(yaws) - min(yaws), limits.min_yaw_range_degrees)
    return planar_error, motion


def _sample(video: bytes, limits: EnrollmentLimits) -> tuple[np.ndarray, float]:
    if len(video) > limits.max_bytes:
        raise VideoTooLarge(len(video), limits.max_bytes)
    try:
        sampled = sample_frames(video, count=limits.sample_frames, max_seconds=limits.max_seconds)
    except NoVideoStream as error:
        raise SoundOnly() from error
    except VideoUnreadable as error:
        raise UnreadableVideo() from error
    except FrameTooLarge as error:
        raise FramesTooLarge(error.width, error.height) from error
    except VideoTooLong as error:
        raise ClipTooLong(error.duration_s, limits.max_seconds) from error
    if len(sampled.frames) < 2 and sampled.duration_s == 0:
        raise StillPicture()
    if sampled.duration_s < limits.min_seconds:
        raise ClipTooShort(sampled.duration_s, limits.min_seconds)
    return sampled.frames, sampled.duration_s


def _one_face_frames(
    frames: np.ndarray, analyzer: FaceAnalyzer, limits: EnrollmentLimits
) -> list[_Seen]:
    seen, crowded = [], 0
    for image in frames:
        faces = analyzer.detect(image)
        if len(faces) == 1:
            seen.append(_Seen(image=image, face=faces[0]))
        crowded += len(faces) > 1
    if len(seen) >= limits.min_one_face_fraction * len(frames):
        return seen
    # Several faces in more frames than one face: say so, it is the thing to change.
    if crowded and crowded >= len(frames) - len(seen) - crowded:
        raise SeveralFaces()
    raise NoFace()


def _check_size_and_focus(seen: list[_Seen], limits: EnrollmentLimits) -> None:
    # Medians: a frame or two caught mid-turn may be blurred without spoiling the clip.
    if np.median([item.face.size for item in seen]) < limits.min_face_px:
        raise FaceTooSmall()
    if np.median([item.face.sharpness for item in seen]) < limits.min_sharpness:
        raise FaceBlurry()


def mean_embedding(embeddings: Sequence[Embedding]) -> Embedding:
    vector = np.mean([embedding.vector for embedding in embeddings], axis=0)
    vector.setflags(write=False)
    return Embedding(vector=vector, backend=embeddings[0].backend)


def homography(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x3 homography taking (N, 2) `source` points nearest to `target` (DLT, N >= 4).

    Both point sets are first moved to their centroid and scaled to unit spread (Hartley's
    normalisation), without which the least-squares system is badly conditioned in pixels.
    """
    source_norm, source_t = _normalise(source)
    target_norm, target_t = _normalise(target)
    rows = []
    for (x, y), (u, v) in zip(source_norm, target_norm, strict=True):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, -u])
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, -v])
    # The least-squares solution of A h = 0 with |h| = 1: the last right singular vector.
    _, _, vt = np.linalg.svd(np.asarray(rows))
    normalised = vt[-1].reshape(3, 3)
    matrix: np.ndarray = np.linalg.inv(target_t) @ normalised @ source_t
    scaled: np.ndarray = matrix / matrix[2, 2]
    return scaled


def _normalise(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centre = points.mean(axis=0)
    spread = float(np.sqrt(((points - centre) ** 2).sum(axis=1).mean())) or 1.0
    scale = np.sqrt(2) / spread
    transform = np.array(
        [[scale, 0.0, -scale * centre[0]], [0.0, scale, -scale * centre[1]], [0.0, 0.0, 1.0]]
    )
    return (points - centre) * scale, transform


def project(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    homogeneous = np.c_[points, np.ones(len(points))] @ matrix.T
    projected: np.ndarray = homogeneous[:, :2] / homogeneous[:, 2:]
    return projected


def planar_fit(faces: Sequence[Face]) -> tuple[float, float]:
    """(error, motion) over the frames after the first, both relative to the face size.

    error: the largest RMS distance between a frame's landmarks and the first frame's mapped
    by their best homography. A flat picture leaves only landmark jitter; a turning head
    leaves more, because its features lie at different depths.
    motion: the largest RMS distance the landmarks moved from the first frame.
    """
    first = faces[0].landmarks
    error = motion = 0.0
    for face in faces[1:]:
        fitted = project(homography(first, face.landmarks), first)
        rms = float(np.sqrt(((fitted - face.landmarks) ** 2).sum(axis=1).mean()))
        moved = float(np.sqrt(((face.landmarks - first) ** 2).sum(axis=1).mean()))
        error = max(error, rms / face.size)
        motion = max(motion, moved / face.size)
    return error, motion


def _reference_crops(seen: list[_Seen], count: int) -> tuple[np.ndarray, ...]:
    """Crops at the widest yaw spread: the frames nearest evenly spaced yaws, left to right."""
    by_yaw = sorted(seen, key=lambda item: item.face.yaw_degrees)
    picks = np.linspace(0, len(by_yaw) - 1, num=min(count, len(by_yaw))).round().astype(int)
    return tuple(_crop(by_yaw[index]) for index in dict.fromkeys(picks.tolist()))


def _crop(item: _Seen) -> np.ndarray:
    # A quarter of the face size around the box takes in hair and chin, which dlib's box cuts.
    box, height, width = item.face.box, item.image.shape[0], item.image.shape[1]
    margin = round(item.face.size / 4)
    top, bottom = max(box.top - margin, 0), min(box.bottom + margin, height)
    left, right = max(box.left - margin, 0), min(box.right + margin, width)
    return np.ascontiguousarray(item.image[top:bottom, left:right])

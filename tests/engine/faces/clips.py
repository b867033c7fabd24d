"""Selfie clips made in the tests from the real photos in `photos`: a head turn, a flat photo
moved about, two faces, no face, and a long cheap clip."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.encode import encode_mp4
from tests.engine.faces import photos

# The astronaut's face box centre and width in the 512x512 photo, as dlib finds it.
_FACE_CENTRE_X = 222.5
_FACE_WIDTH = 87


def _encode(frames: list[np.ndarray], fps: int, crf: int = 23) -> bytes:
    return encode_mp4(np.stack(frames), None, fps=fps, sample_rate=48_000, crf=crf)


def head_turn(*, seconds: float = 2.0, fps: int = 10, crf: int = 23) -> bytes:
    """The astronaut mapped onto a cylinder and turned from -30 to +30 degrees."""
    image = photos.astronaut()
    count = round(seconds * fps)
    frames = [
        photos.turned(image, _FACE_CENTRE_X, radius=0.6 * _FACE_WIDTH, degrees=degrees)
        for degrees in np.linspace(-30, 30, count)
    ]
    return _encode(frames, fps, crf)


def flat_photo_moved(*, seconds: float = 2.0, fps: int = 10) -> bytes:
    """The flat photo shifted, scaled and tilted in front of the camera."""
    image = Image.fromarray(photos.astronaut())
    count = round(seconds * fps)
    frames = []
    for step in np.linspace(0.0, 1.0, count):
        moved = image.rotate(
            -10 + 20 * step,
            center=(_FACE_CENTRE_X, 130),
            translate=(40 * step, 20 * step),
            resample=Image.Resampling.BILINEAR,
            fillcolor=(40, 40, 40),
        )
        # Scale about the centre, back to 512x512: the photo comes closer to the camera.
        grow = round(512 * 0.2 * step / 2)
        moved = moved.resize((512 + 2 * grow, 512 + 2 * grow), Image.Resampling.BILINEAR)
        frames.append(np.asarray(moved.crop((grow, grow, grow + 512, grow + 512))))
    return _encode(frames, fps)


def two_faces(*, seconds: float = 2.0, fps: int = 5) -> bytes:
    pair = photos.side_by_side(photos.astronaut(), photos.grace_hopper())
    # Even sides for yuv420p.
    pair = pair[: pair.shape[0] // 2 * 2, : pair.shape[1] // 2 * 2]
    return _encode([pair] * round(seconds * fps), fps)


def gradient(*, seconds: float = 2.0, fps: int = 5, side: int = 256) -> bytes:
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    image = np.stack([np.tile(ramp, (side, 1))] * 3, axis=-1)
    return _encode([image] * round(seconds * fps), fps)


def encode_frames(frames: list[np.ndarray], *, fps: int) -> bytes:
    return _encode(frames, fps)


def encode_still(image: np.ndarray, *, seconds: float = 2.0, fps: int = 5) -> bytes:
    """The photo held still: one face, no movement at all."""
    return _encode([image] * round(seconds * fps), fps)


def hopper_512() -> np.ndarray:
    """Grace Hopper cut to the astronaut's 512x512, so the two can share a clip."""
    return np.ascontiguousarray(photos.grace_hopper()[:512, :512])

"""Measurements on a found face that do not depend on the model that found it: head yaw from
landmarks, sharpness and size from the box. Pure numpy, so each backend shares them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.faces.types import Box

# A generic head in model units (after learnopencv's head-pose model): x to the person's left as
# seen in the image (image right), y down, z away from the camera, nose tip at the origin.
# Indices are the iBUG 68-point positions of the same features.
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # 30: nose tip
        (0.0, 330.0, 65.0),  # 8: chin
        (-225.0, -170.0, 135.0),  # 36: outer corner of the eye on the image's left
        (225.0, -170.0, 135.0),  # 45: outer corner of the eye on the image's right
        (-150.0, 150.0, 125.0),  # 48: mouth corner on the image's left
        (150.0, 150.0, 125.0),  # 54: mouth corner on the image's right
    ]
)
_IBUG_INDICES = [30, 8, 36, 45, 48, 54]

# Sharpness is measured on the face crop scaled to this side, so that a large face and a small
# one of equal focus score alike.
_SHARPNESS_SIDE = 128


def check_rgb(image: np.ndarray) -> None:
    """Refuse anything but an (H, W, 3) uint8 array: the models read exactly that."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"face analysis needs an (H, W, 3) uint8 RGB image, got {image.dtype} {image.shape}"
        )


def yaw_degrees(landmarks: np.ndarray) -> float:
    """Left-right head turn from 68 iBUG landmarks; positive turns toward the image's right.

    Fits a scaled orthographic camera to a generic 3D head (a least-squares solvePnP without
    perspective, which a face a metre from a phone barely shows), then reads the direction the
    face points in. Good to a few degrees up to about 60 degrees of turn; enough to tell a
    turning head from one looking straight ahead.
    """
    if landmarks.shape != (68, 2):
        raise ValueError(f"yaw needs 68 landmarks, got an array of shape {landmarks.shape}")
    image_points = landmarks[_IBUG_INDICES].astype(np.float64)
    model = _MODEL_POINTS - _MODEL_POINTS.mean(axis=0)
    seen = image_points - image_points.mean(axis=0)
    # seen ~= model @ projection.T, where projection is 2x3: two scaled rows of a rotation.
    projection_t, *_ = np.linalg.lstsq(model, seen, rcond=None)
    # The nearest matrix with orthonormal rows drops the scale and the fit's shear.
    u, _, vt = np.linalg.svd(projection_t.T, full_matrices=False)
    rows = u @ vt
    rotation = np.vstack([rows, np.cross(rows[0], rows[1])])
    # The face looks along the model's -z; in camera axes that is -rotation[:, 2].
    facing = -rotation[:, 2]
    return float(np.degrees(np.arctan2(facing[0], -facing[2])))


def face_size(box: Box) -> float:
    return float(np.sqrt(max(box.width, 0) * max(box.height, 0)))


def sharpness(image: np.ndarray, box: Box) -> float:
    """Variance of the Laplacian over the face crop: blurred or heavily compressed faces score
    low. Returns 0 for a box that lies outside the image."""
    height, width = image.shape[:2]
    left, top = max(box.left, 0), max(box.top, 0)
    right, bottom = min(box.right, width), min(box.bottom, height)
    if right - left < 3 or bottom - top < 3:
        return 0.0
    crop = Image.fromarray(image[top:bottom, left:right]).convert("L")
    side = (_SHARPNESS_SIDE, _SHARPNESS_SIDE)
    gray = np.asarray(crop.resize(side, Image.Resampling.BILINEAR), dtype=np.float64)
    laplacian = (
        gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:] - 4 * gray[1:-1, 1:-1]
    )
    return float(laplacian.var())

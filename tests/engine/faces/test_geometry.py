"""Pose and sharpness measured from landmarks and pixels, without a face model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from engine.faces.geometry import _IBUG_INDICES, _MODEL_POINTS, face_size, sharpness, yaw_degrees
from engine.faces.types import Box
from tests.engine.faces import photos


def projected_landmarks(yaw: float, pitch: float) -> np.ndarray:
    """The generic head turned by `yaw` (toward the image's right), tilted by `pitch`, seen
    by an orthographic camera at 0.4 px per model unit."""
    t, p = np.radians(yaw), np.radians(pitch)
    turn = np.array([[np.cos(t), 0, -np.sin(t)], [0, 1, 0], [np.sin(t), 0, np.cos(t)]])
    tilt = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    points = _MODEL_POINTS @ (tilt @ turn).T
    landmarks = np.zeros((68, 2))
    landmarks[_IBUG_INDICES] = points[:, :2] * 0.4 + (250, 180)
    return landmarks


@pytest.mark.parametrize("yaw", [-60, -30, -10, 0, 10, 30, 60])
def test_yaw_of_a_turned_model_head(yaw: float) -> None:
    assert yaw_degrees(projected_landmarks(yaw, pitch=0)) == pytest.approx(yaw, abs=0.01)
    # A nodding head shifts the estimate only a little.
    assert yaw_degrees(projected_landmarks(yaw, pitch=15)) == pytest.approx(yaw, abs=1.5)


def test_yaw_needs_68_landmarks() -> None:
    with pytest.raises(ValueError, match="68 landmarks"):
        yaw_degrees(np.zeros((5, 2)))


def test_blur_lowers_sharpness() -> None:
    image = photos.grace_hopper()
    box = Box(161, 137, 376, 352)
    blurred = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(3)))
    assert sharpness(blurred, box) < sharpness(image, box) / 4


def test_a_box_outside_the_image_has_no_sharpness() -> None:
    assert sharpness(np.zeros((50, 50, 3), dtype=np.uint8), Box(60, 60, 90, 90)) == 0.0


def test_size_is_the_side_of_the_box() -> None:
    assert face_size(Box(10, 20, 110, 145)) == pytest.approx(np.sqrt(100 * 125))

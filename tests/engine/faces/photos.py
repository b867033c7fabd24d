"""Real face photos that ship inside installed packages, and the edits the tests make to them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def astronaut() -> np.ndarray:
    """Eileen Collins, 512x512, face about 90 px across (scikit-image, public domain)."""
    data = pytest.importorskip("skimage.data")
    return np.asarray(data.astronaut())


def grace_hopper() -> np.ndarray:
    """Grace Hopper, 512x600, face about 215 px across (matplotlib's sample data)."""
    matplotlib = pytest.importorskip("matplotlib")
    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return np.asarray(Image.open(path).convert("RGB"))


def coffee() -> np.ndarray:
    """A cup of coffee on a table: no face."""
    data = pytest.importorskip("skimage.data")
    return np.asarray(data.coffee())


def shifted(image: np.ndarray) -> np.ndarray:
    canvas = Image.new("RGB", (image.shape[1] + 90, image.shape[0] + 60), (40, 40, 40))
    canvas.paste(Image.fromarray(image), (70, 25))
    return np.asarray(canvas)


def rotated(image: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(image).rotate(12, expand=True, fillcolor=(40, 40, 40)))


def scaled(image: np.ndarray) -> np.ndarray:
    # Up, not down: at dlib's default the detector needs faces of about 80 px.
    size = (round(image.shape[1] * 1.3), round(image.shape[0] * 1.3))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def jpeg_30(image: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=30)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    height = max(left.shape[0], right.shape[0])
    canvas = Image.new("RGB", (left.shape[1] + right.shape[1], height), (40, 40, 40))
    canvas.paste(Image.fromarray(left), (0, 0))
    canvas.paste(Image.fromarray(right), (left.shape[1], 0))
    return np.asarray(canvas)


def turned(image: np.ndarray, centre_x: float, radius: float, degrees: float) -> np.ndarray:
    """The image wrapped on a vertical cylinder about `centre_x` and turned by `degrees`.

    A crude head turn (the nose does not stand out of the cylinder), but it moves the landmarks
    the way a turn does: the near side widens, the far side narrows. Positive turns the face
    toward the image's right. Columns off the cylinder are grey.
    """
    width = image.shape[1]
    x = np.arange(width) - centre_x
    angle = np.arcsin(np.clip(x / radius, -1.0, 1.0)) - np.radians(degrees)
    source = np.clip(np.round(centre_x + radius * np.sin(angle)).astype(int), 0, width - 1)
    out = image[:, source].copy()
    out[:, (np.abs(x) >= radius) | (np.abs(angle) > np.pi / 2)] = 128
    return out

"""What face analysis gives back, and the one interface every face backend implements.

The bot and the cameo checks speak only these types; which model found a face or computed an
embedding stays inside the backend (`engine.faces.dlib_backend`,
`engine.faces.insightface_backend`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.request import EngineError

if TYPE_CHECKING:
    # Importing engine.faces must stay cheap for the bot process (tests/test_process.py).
    import numpy as np


class FaceModelMismatch(EngineError):
    """Two embeddings from different face models were compared; their distances mean nothing."""


class FaceModelsMissing(EngineError):
    """A face backend's weights (or the swap model) are not where it was told to look."""


@dataclass(frozen=True)
class Box:
    """A face's bounding box in pixels; it may reach past the image's edges."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


# eq=False: the fields hold numpy arrays, whose `==` is elementwise and has no truth value.
@dataclass(frozen=True, eq=False)
class Face:
    """One face found in an image."""

    box: Box
    # (N, 2) float array of (x, y) pixel positions; N is 68 in dlib's iBUG order.
    landmarks: np.ndarray
    # Left-right head turn: 0 looks into the camera, positive turns the face toward the image's
    # right (the person's own left), negative toward the image's left.
    yaw_degrees: float
    # Variance of the Laplacian of the face crop at a fixed size: low means blurred.
    sharpness: float
    # Side of the face box in pixels (the geometric mean of its width and height).
    size: float


@dataclass(frozen=True, eq=False)
class Embedding:
    """A face's identity vector; comparable only with vectors from the same backend."""

    vector: np.ndarray
    backend: str


def check_comparable(model: str, *embeddings: Embedding) -> None:
    """Raise FaceModelMismatch unless every embedding was made by the face model `model`."""
    for embedding in embeddings:
        if embedding.backend != model:
            raise FaceModelMismatch(
                f"A face stored with the {embedding.backend} face model cannot be compared "
                f"with the {model} face model; the face has to be enrolled again."
            )


class FaceAnalyzer(Protocol):
    """Detects faces, embeds them, and says whether two embeddings are the same person."""

    # Read-only properties, so that a class constant or a frozen field satisfies them.
    @property
    def name(self) -> str:
        """The model family; stored with embeddings so that another backend refuses them."""
        ...

    @property
    def threshold(self) -> float:
        """Distances below this are the same person. Each backend has its own scale."""
        ...

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an (H, W, 3) RGB uint8 image, largest first."""
        ...

    def embed(self, image: np.ndarray, face: Face) -> Embedding:
        """The identity vector of `face`, found in this same `image` by `detect`."""
        ...

    def distance(self, a: Embedding, b: Embedding) -> float:
        """How different two faces look; raises FaceModelMismatch across backends."""
        ...

    def same_person(self, a: Embedding, b: Embedding) -> bool:
        """Whether `distance(a, b)` is below this backend's threshold."""
        ...

"""The dlib face backend: the embedded default, offline, with CC0 weights.

Detection is dlib's HOG detector, landmarks its 68-point shape predictor, identity its 128-d
ResNet. The weights come from the `face-recognition-models` package; its own module imports
`pkg_resources`, which current setuptools no longer ships, so the .dat files are located through
the package's folder without importing it. `face_recognition` itself is not used for the same
reason.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from engine.faces.geometry import check_rgb, face_size, sharpness, yaw_degrees
from engine.faces.types import (
    Box,
    Embedding,
    Face,
    FaceAnalyzer,
    FaceModelsMissing,
    check_comparable,
)

LANDMARKS_FILE = "shape_predictor_68_face_landmarks.dat"
RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"


def models_folder() -> Path:
    """Where `face-recognition-models` keeps its .dat files, found without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        raise FaceModelsMissing(
            "Face checks need the face-recognition-models package "
            "(pip install face-recognition-models); it is not installed."
        )
    return Path(next(iter(locations))) / "models"


@dataclass(frozen=True, eq=False)
class DlibAnalyzer:
    """dlib's detector, landmarks and ResNet embeddings. Build it once with `load()`."""

    detector: Any
    predictor: Any
    recognizer: Any
    # 0 finds faces from about 80 px across and is about 4x faster than 1 (about 40 px).
    upsample: int = 0
    # HOG scores below this are dropped. dlib's own cut is 0, which on the test photos lets an
    # astronaut's name badge through (0.04-0.17), while real faces score 0.33-1.64, the lowest
    # for a head tilted by 12 degrees.
    min_score: float = 0.25

    name: ClassVar[str] = "dlib"
    # dlib's own figure for its ResNet: 99.38% on LFW at 0.6. Here the same photo shifted,
    # scaled, rotated or saved as JPEG-30 measures 0.02-0.19; two different people 0.70-0.84.
    threshold: ClassVar[float] = 0.6

    @classmethod
    def load(
        cls, *, folder: Path | None = None, upsample: int = 0, min_score: float = 0.25
    ) -> DlibAnalyzer:
        """Read the weights (about a second) from `folder`, by default the package's own."""
        # dlib is imported here, not at the top, so that importing engine.faces stays light.
        import dlib

        folder = folder if folder is not None else models_folder()
        for name in (LANDMARKS_FILE, RESNET_FILE):
            if not (folder / name).is_file():
                raise FaceModelsMissing(f"The face model file {folder / name} is missing.")
        return cls(
            detector=dlib.get_frontal_face_detector(),
            predictor=dlib.shape_predictor(str(folder / LANDMARKS_FILE)),
            recognizer=dlib.face_recognition_model_v1(str(folder / RESNET_FILE)),
            upsample=upsample,
            min_score=min_score,
        )

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an (H, W, 3) RGB uint8 image, largest first."""
        check_rgb(image)
        image = np.ascontiguousarray(image)
        faces = []
        rects, _, _ = self.detector.run(image, self.upsample, self.min_score)
        for rect in rects:
            shape = self.predictor(image, rect)
            landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
            landmarks.setflags(write=False)
            box = Box(rect.left(), rect.top(), rect.right(), rect.bottom())
            faces.append(
                Face(
                    box=box,
                    landmarks=landmarks,
                    yaw_degrees=yaw_degrees(landmarks),
                    sharpness=sharpness(image, box),
                    size=face_size(box),
                )
            )
        return sorted(faces, key=lambda face: face.size, reverse=True)

    def embed(self, image: np.ndarray, face: Face) -> Embedding:
        """The 128-d identity vector; the ResNet aligns the face by its landmarks itself."""
        import dlib

        check_rgb(image)
        box = face.box
        rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
        # dlib landmarks are whole pixels, so rounding gives back exactly what detect() found.
        points = [dlib.point(round(x), round(y)) for x, y in face.landmarks]
        shape = dlib.full_object_detection(rect, points)
        descriptor = self.recognizer.compute_face_descriptor(np.ascontiguousarray(image), shape)
        vector = np.array(descriptor, dtype=np.float64)
        vector.setflags(write=False)
        return Embedding(vector=vector, backend=self.name)

    def distance(self, a: Embedding, b: Embedding) -> float:
        """Euclidean distance, the metric dlib's ResNet was trained for."""
        check_comparable(self.name, a, b)
        return float(np.linalg.norm(a.vector - b.vector))

    def same_person(self, a: Embedding, b: Embedding) -> bool:
        return self.distance(a, b) < self.threshold


if TYPE_CHECKING:
    # mypy proves here that DlibAnalyzer implements the interface.
    def _implements_face_analyzer(analyzer: DlibAnalyzer) -> FaceAnalyzer:
        return analyzer

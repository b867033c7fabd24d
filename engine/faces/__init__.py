"""Face analysis for cameos: detect faces with landmarks and head pose, embed them, compare.

Importing this package loads neither numpy nor a face model; a backend loads its model when
asked (`load_analyzer()`, or `DlibAnalyzer.load()` in `engine.faces.dlib_backend` and
`InsightFaceAnalyzer.load()` in `engine.faces.insightface_backend`).
"""

from __future__ import annotations

from pathlib import Path

from engine.faces.types import (
    Box,
    Embedding,
    Face,
    FaceAnalyzer,
    FaceModelMismatch,
    FaceModelsMissing,
)

__all__ = [
    "Box",
    "Embedding",
    "Face",
    "FaceAnalyzer",
    "FaceModelMismatch",
    "FaceModelsMissing",
    "load_analyzer",
]

BACKENDS = ("dlib", "insightface")


def load_analyzer(backend: str, models: Path | None) -> FaceAnalyzer:
    """The face backend named `backend` ("dlib" or "insightface") with its weights from
    `models`: for dlib a folder of .dat files (None: the installed package's), for InsightFace
    a model pack folder such as ~/.insightface/models/buffalo_l (required)."""
    # Each backend's module is imported only when chosen: they load numpy and their runtimes.
    if backend == "dlib":
        from engine.faces.dlib_backend import DlibAnalyzer

        return DlibAnalyzer.load(folder=models)
    if backend == "insightface":
        from engine.faces.insightface_backend import InsightFaceAnalyzer

        if models is None:
            raise FaceModelsMissing(
                "The InsightFace face backend needs its model folder: set CLIPCREW_FACE_MODELS "
                "to a model pack such as ~/.insightface/models/buffalo_l."
            )
        return InsightFaceAnalyzer.load(models)
    raise ValueError(f"unknown face backend {backend!r}; choose one of {', '.join(BACKENDS)}")

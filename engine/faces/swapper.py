"""Face swap for cameos: insightface's INSwapper puts a cameo's identity on the largest face of
each frame.

The swapper reads an ArcFace embedding of the cameo (`InsightFaceAnalyzer.embed` on a reference
crop) and the target face's 5 keypoints; it repaints the aligned 128x128 face and blends it back,
so pixels away from the face stay as they were. inswapper_128.onnx (CLIPCREW_SWAPPER_MODEL names
it) is a 550 MB download from InsightFace, for non-commercial use; it expects embeddings from
buffalo_l's w600k_r50 recognizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.faces.insightface_backend import InsightFaceAnalyzer
from engine.faces.types import Embedding, FaceModelMismatch, FaceModelsMissing


@dataclass(frozen=True, eq=False)
class FaceSwapper:
    """insightface's INSwapper. Build it once with `load()`."""

    model: Any

    @classmethod
    def load(cls, path: Path) -> FaceSwapper:
        """Read inswapper_128.onnx (or a model of its shape) from `path`, on the CPU."""
        # Imported here so that importing engine.faces stays light.
        from insightface.model_zoo import get_model
        from insightface.model_zoo.inswapper import INSwapper

        path = path.expanduser()
        if not path.is_file():
            raise FaceModelsMissing(
                f"The face swap model {path} is missing; nothing is downloaded. Place "
                "inswapper_128.onnx there."
            )
        model = get_model(str(path), providers=["CPUExecutionProvider"])
        if not isinstance(model, INSwapper):
            raise FaceModelsMissing(f"The model {path} is not an INSwapper face swap model.")
        return cls(model=model)

    def swap(
        self, frames: np.ndarray, source: Embedding, analyzer: InsightFaceAnalyzer
    ) -> np.ndarray:
        """(N, H, W, 3) RGB uint8 frames with the largest face in each given `source`'s
        identity; frames without a face come back unchanged. `source` must come from
        `analyzer`, which finds the faces."""
        from insightface.app.common import Face as InsightFace

        # 1. Check inputs.
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
            raise ValueError(
                f"face swap needs (N, H, W, 3) uint8 RGB frames, got {frames.dtype} {frames.shape}"
            )
        if source.backend != analyzer.name:
            raise FaceModelMismatch(
                f"A face embedded with the {source.backend} face model cannot be swapped in "
                f"with the {analyzer.name} face model."
            )
        width = self.model.emap.shape[0]
        if source.vector.shape != (width,):
            raise FaceModelMismatch(
                f"The face swap model needs a {width}-number face embedding; "
                f"the {source.backend} model gives {source.vector.shape[0]}."
            )
        identity = InsightFace(embedding=np.asarray(source.vector, dtype=np.float32))

        # 2. Swap the largest face of each frame.
        swapped = np.empty_like(frames)
        for i, frame in enumerate(frames):
            bgr = np.ascontiguousarray(frame[:, :, ::-1])
            faces = analyzer.find(bgr, landmarks=False)
            if faces:
                bgr = self.model.get(bgr, faces[0], identity, paste_back=True)
            swapped[i] = bgr[:, :, ::-1]
        return swapped

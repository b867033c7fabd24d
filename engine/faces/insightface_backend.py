"""The InsightFace backend: SCRFD detection, ArcFace identity, and landmarks, from a model pack.

A model pack is a folder of ONNX files such as `~/.insightface/models/buffalo_l`
(CLIPCREW_FACE_MODELS names it). insightface's `FaceAnalysis` loads every file in it and picks
each model's task from the ONNX signature; this backend keeps the detector, the recognizer and
the 2d106 / 1k3d68 landmark models (buffalo_l's gender-age model is not needed). It never
downloads: a folder without ONNX files is refused before insightface sees it. Note that the code
is MIT but InsightFace's pretrained packs are for non-commercial use.

Landmarks are the 106 points of `landmark_2d_106` when the pack has that model, otherwise the
detector's 5 keypoints (eye centres, nose tip, mouth corners). Yaw is the 1k3d68 model's head
pose when the pack has it, otherwise an estimate from the 5 keypoints (`keypoint_yaw_degrees`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from engine.faces.geometry import check_rgb, face_size, sharpness
from engine.faces.types import (
    Box,
    Embedding,
    Face,
    FaceAnalyzer,
    FaceModelsMissing,
    check_comparable,
)

# The tasks kept from a pack, by insightface's names for them.
DETECTION = "detection"
RECOGNITION = "recognition"
LANDMARKS_106 = "landmark_2d_106"
LANDMARKS_3D_68 = "landmark_3d_68"
MODULES = [DETECTION, RECOGNITION, LANDMARKS_106, LANDMARKS_3D_68]

# How far the nose tip stands in front of the eyes, in half eye distances: from insightface's
# own mean 3D face (meanshape_68.pkl, eye centres at x = +-0.266, z = 0.315; nose tip z = 0.599).
_NOSE_DEPTH = 1.068


def keypoint_yaw_degrees(keypoints: np.ndarray) -> float:
    """Left-right head turn from SCRFD's 5 keypoints; positive turns toward the image's right.

    When a head turns by `yaw`, the nose tip, standing `depth` in front of the eyes, moves
    `depth * sin(yaw)` sideways from the eyes' midpoint, while the eyes, `half` either side of
    it, close up to `half * cos(yaw)`. Measured along the eye line, the nose's offset over the
    seen half eye distance is `(depth / half) * tan(yaw)`. Rough (a mean face, no perspective,
    pitch ignored), but it tells a turning head from a frontal one.
    """
    if keypoints.shape != (5, 2):
        raise ValueError(f"yaw needs 5 keypoints, got an array of shape {keypoints.shape}")
    left_eye, right_eye, nose = (keypoints[i].astype(np.float64) for i in range(3))
    across = right_eye - left_eye
    half = float(np.linalg.norm(across)) / 2
    if half == 0:
        return 0.0
    offset = float(np.dot(nose - (left_eye + right_eye) / 2, across / (2 * half)))
    return float(np.degrees(np.arctan(offset / half / _NOSE_DEPTH)))


def _readonly(array: Any) -> np.ndarray:
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class InsightFaceAnalyzer:
    """insightface's models from one pack. Build it once with `load()`."""

    app: Any
    # "insightface:<pack>": ArcFace vectors from different packs live in different spaces.
    name: str
    # The 5 keypoints of each Face that detect() returned, which embed() aligns the face by;
    # weak, so that faces the caller drops are forgotten.
    _keypoints: weakref.WeakKeyDictionary[Face, np.ndarray] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )

    # Cosine distance (1 - cosine similarity). insightface 2.1's own PrivateFrame app confirms
    # an identity at cosine similarity 0.40 (`recognition.similarity_threshold`), i.e. distance
    # 0.6; its album clustering is stricter at distance 0.28. Not measured here: the buffalo_l
    # weights cannot be fetched offline.
    threshold: ClassVar[float] = 0.6

    @classmethod
    def load(cls, folder: Path, *, det_thresh: float = 0.5) -> InsightFaceAnalyzer:
        """Load the pack in `folder` (`<root>/models/<name>`) on the CPU; about a second."""
        # insightface is imported here, not at the top, so that importing engine.faces stays
        # light; it pulls onnxruntime, opencv and scikit-image.
        from insightface.app import FaceAnalysis

        folder = folder.expanduser()
        if not folder.is_dir() or not any(folder.glob("*.onnx")):
            raise FaceModelsMissing(
                f"The InsightFace model folder {folder} has no .onnx files. Unpack a model pack "
                "(such as buffalo_l) there; nothing is downloaded."
            )
        try:
            # insightface 2.1 takes an existing folder as `name` directly and then never
            # reaches its downloader; `root` is only where it would have downloaded to.
            app = FaceAnalysis(
                name=str(folder),
                root=str(folder.parent),
                providers=["CPUExecutionProvider"],
                allowed_modules=MODULES,
            )
        except (AssertionError, KeyError) as error:
            # FaceAnalysis asserts that the pack has a detector.
            raise FaceModelsMissing(
                f"The InsightFace model folder {folder} has no face detector."
            ) from error
        if RECOGNITION not in app.models:
            raise FaceModelsMissing(
                f"The InsightFace model folder {folder} has no face recognition model."
            )
        app.prepare(ctx_id=-1, det_thresh=det_thresh)
        return cls(app=app, name=f"insightface:{folder.name}")

    def find(self, bgr: np.ndarray, *, landmarks: bool = True) -> list[Any]:
        """insightface's own faces (bbox, kps, det_score, and the landmark models' fields) in
        a BGR uint8 image, largest first; the landmark models run only when `landmarks` is set.
        The face swap needs these: it aligns by insightface's 5 keypoints."""
        from insightface.app.common import Face as InsightFace

        boxes, keypoints = self.app.det_model.detect(bgr, max_num=0)
        faces = []
        for i in range(boxes.shape[0]):
            face = InsightFace(bbox=boxes[i, :4], kps=keypoints[i], det_score=boxes[i, 4])
            for task in (LANDMARKS_106, LANDMARKS_3D_68) if landmarks else ():
                if task in self.app.models:
                    self.app.models[task].get(bgr, face)
            faces.append(face)

        def area(face: Any) -> float:
            left, top, right, bottom = face.bbox
            return float((right - left) * (bottom - top))

        return sorted(faces, key=area, reverse=True)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an (H, W, 3) RGB uint8 image, largest first."""
        check_rgb(image)
        found = []
        for raw in self.find(np.ascontiguousarray(image[:, :, ::-1])):
            box = Box(*(round(float(v)) for v in raw.bbox))
            points = raw.landmark_2d_106 if raw.landmark_2d_106 is not None else raw.kps
            # The 1k3d68 model's pose is (pitch, yaw, roll) in degrees, its yaw signed as ours
            # (checked in the tests against geometry.yaw_degrees on its 68 points).
            yaw = float(raw.pose[1]) if raw.pose is not None else keypoint_yaw_degrees(raw.kps)
            face = Face(
                box=box,
                landmarks=_readonly(points),
                yaw_degrees=yaw,
                sharpness=sharpness(image, box),
                size=face_size(box),
            )
            self._keypoints[face] = _readonly(raw.kps)
            found.append(face)
        return found

    def embed(self, image: np.ndarray, face: Face) -> Embedding:
        """The unit-length ArcFace vector of the face aligned by its 5 keypoints."""
        from insightface.app.common import Face as InsightFace

        check_rgb(image)
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        keypoints = self._keypoints.get(face)
        if keypoints is None:
            keypoints = self._redetect(bgr, face.box)
        raw = InsightFace(kps=keypoints.astype(np.float32))
        self.app.models[RECOGNITION].get(bgr, raw)
        return Embedding(vector=_readonly(raw.normed_embedding), backend=self.name)

    def _redetect(self, bgr: np.ndarray, box: Box) -> np.ndarray:
        """The keypoints of the detection that overlaps `box` most: for a Face that this
        analyzer did not find itself (built elsewhere, or from another analyzer)."""
        best, best_overlap = None, 0.5
        for raw in self.find(bgr, landmarks=False):
            overlap = _overlap(box, Box(*(round(float(v)) for v in raw.bbox)))
            if overlap >= best_overlap:
                best, best_overlap = raw, overlap
        if best is None:
            raise ValueError(f"no face found at {box} to embed")
        return np.asarray(best.kps, dtype=np.float64)

    def distance(self, a: Embedding, b: Embedding) -> float:
        """Cosine distance, 1 - cosine similarity: the metric ArcFace was trained for."""
        check_comparable(self.name, a, b)
        norms = float(np.linalg.norm(a.vector) * np.linalg.norm(b.vector))
        return 1.0 - float(np.dot(a.vector, b.vector)) / norms

    def same_person(self, a: Embedding, b: Embedding) -> bool:
        return self.distance(a, b) < self.threshold


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = max(0, min(a.right, b.right) - max(a.left, b.left))
    height = max(0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = width * height
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


if TYPE_CHECKING:
    # mypy proves here that InsightFaceAnalyzer implements the interface.
    def _implements_face_analyzer(analyzer: InsightFaceAnalyzer) -> FaceAnalyzer:
        return analyzer

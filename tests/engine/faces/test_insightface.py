"""The InsightFace backend and face swap through insightface's real loaders and models, run on
a tiny offline model pack (tests/engine/faces/tiny_insightface.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.faces import Embedding, FaceModelMismatch, load_analyzer
from engine.faces.geometry import yaw_degrees
from engine.faces.insightface_backend import InsightFaceAnalyzer, keypoint_yaw_degrees
from engine.faces.swapper import FaceSwapper
from engine.faces.types import FaceModelsMissing
from tests.engine.faces.tiny_insightface import (
    FACE_BOX,
    KEYPOINTS,
    build_tiny_pack,
    build_tiny_swapper,
    face_photo,
)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pack(tmp_path_factory.mktemp("insightface"))


@pytest.fixture(scope="module")
def analyzer(pack: Path) -> InsightFaceAnalyzer:
    return InsightFaceAnalyzer.load(pack)


def only_face_embedding(analyzer: InsightFaceAnalyzer, image: np.ndarray) -> Embedding:
    [face] = analyzer.detect(image)
    return analyzer.embed(image, face)


def test_finds_the_face_with_106_landmarks(analyzer: InsightFaceAnalyzer) -> None:
    image = face_photo(1)
    [face] = analyzer.detect(image)
    # The detector ran on a 128x128 letterbox of the 256x256 photo; the box is in photo pixels.
    assert (face.box.left, face.box.top, face.box.right, face.box.bottom) == FACE_BOX
    assert face.size == 64
    assert face.sharpness > 0
    assert face.landmarks.shape == (106, 2)
    assert (face.landmarks >= 64).all()
    assert (face.landmarks <= 128).all()
    # The keypoints are a frontal face's.
    assert abs(face.yaw_degrees) < 2
    assert not face.landmarks.flags.writeable


def test_no_face_on_a_dark_photo(analyzer: InsightFaceAnalyzer) -> None:
    assert analyzer.detect(np.full((256, 256, 3), 20, dtype=np.uint8)) == []


def test_five_keypoints_without_the_landmark_model(tmp_path: Path) -> None:
    analyzer = InsightFaceAnalyzer.load(build_tiny_pack(tmp_path, landmarks_106=False))
    [face] = analyzer.detect(face_photo(1, box=(128, 64, 192, 128)))
    expected = np.array([(128 + 64 * x, 64 + 64 * y) for x, y in KEYPOINTS])
    np.testing.assert_allclose(face.landmarks, expected, atol=0.01)


@pytest.mark.parametrize("turn", [-25.0, 20.0])
def test_yaw_from_the_3d_landmark_model(tmp_path: Path, turn: float) -> None:
    analyzer = InsightFaceAnalyzer.load(build_tiny_pack(tmp_path, landmarks_68_yaw=turn))
    image = face_photo(1)
    [face] = analyzer.detect(image)
    assert face.yaw_degrees == pytest.approx(turn, abs=0.5)
    # The same sign as the dlib backend's yaw, measured on the model's 68 iBUG points.
    [raw] = analyzer.find(np.ascontiguousarray(image[:, :, ::-1]))
    assert yaw_degrees(raw.landmark_3d_68[:, :2]) == pytest.approx(turn, abs=8)


@pytest.mark.parametrize("turn", [-40.0, -15.0, 0.0, 15.0, 40.0])
def test_keypoint_yaw_of_a_turned_mean_face(turn: float) -> None:
    from insightface.data import get_object

    mean = np.asarray(get_object("meanshape_68.pkl"), dtype=np.float64)
    points = np.array(
        [mean[36:42].mean(axis=0), mean[42:48].mean(axis=0), mean[30], mean[48], mean[54]]
    )
    angle = np.radians(turn)
    # Turned about the vertical axis and seen straight on: the nose (toward +z) moves along x.
    seen_x = points[:, 0] * np.cos(angle) + points[:, 2] * np.sin(angle)
    keypoints = np.stack([seen_x, points[:, 1]], axis=1) * 100 + 200
    assert keypoint_yaw_degrees(keypoints) == pytest.approx(turn, abs=0.5)
    with pytest.raises(ValueError, match="5 keypoints"):
        keypoint_yaw_degrees(keypoints[:4])


def test_embeddings(analyzer: InsightFaceAnalyzer, tmp_path: Path) -> None:
    first = only_face_embedding(analyzer, face_photo(1))
    assert first.backend == "insightface:tiny_l" == analyzer.name
    assert first.vector.shape == (512,)
    assert np.linalg.norm(first.vector) == pytest.approx(1.0)
    assert analyzer.distance(first, first) == pytest.approx(0.0, abs=1e-6)
    # The same face elsewhere in the photo aligns to the same crop.
    moved = only_face_embedding(analyzer, face_photo(1, box=(128, 128, 192, 192)))
    other = only_face_embedding(analyzer, face_photo(2))
    assert analyzer.distance(first, moved) < 1e-4
    assert analyzer.distance(first, other) > 100 * max(analyzer.distance(first, moved), 1e-6)
    assert analyzer.same_person(first, moved)
    # Vectors from another backend or another pack are refused.
    for backend in ("dlib", "insightface:buffalo_l"):
        stranger = Embedding(vector=first.vector, backend=backend)
        with pytest.raises(FaceModelMismatch, match=backend):
            analyzer.distance(first, stranger)


def test_embeds_a_face_it_did_not_find_itself(analyzer: InsightFaceAnalyzer) -> None:
    image = face_photo(3)
    [face] = analyzer.detect(image)
    copy = dataclasses.replace(face)
    assert copy is not face
    np.testing.assert_allclose(
        analyzer.embed(image, copy).vector, analyzer.embed(image, face).vector, atol=1e-6
    )
    nowhere = dataclasses.replace(face, box=dataclasses.replace(face.box, left=0, right=40))
    with pytest.raises(ValueError, match="no face found"):
        analyzer.embed(image, nowhere)


def test_refuses_folders_without_models(tmp_path: Path) -> None:
    with pytest.raises(FaceModelsMissing, match=r"has no \.onnx files"):
        InsightFaceAnalyzer.load(tmp_path / "models" / "buffalo_l")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FaceModelsMissing, match="nothing is downloaded"):
        InsightFaceAnalyzer.load(tmp_path / "empty")
    pack = build_tiny_pack(tmp_path, landmarks_106=False)
    (pack / "det_tiny.onnx").unlink()
    with pytest.raises(FaceModelsMissing, match="no face detector"):
        InsightFaceAnalyzer.load(pack)
    pack = build_tiny_pack(tmp_path, "detector_only", landmarks_106=False)
    (pack / "w_tiny.onnx").unlink()
    with pytest.raises(FaceModelsMissing, match="no face recognition model"):
        InsightFaceAnalyzer.load(pack)


def test_load_analyzer(pack: Path) -> None:
    analyzer = load_analyzer("insightface", pack)
    assert isinstance(analyzer, InsightFaceAnalyzer)
    assert analyzer.name == "insightface:tiny_l"
    with pytest.raises(FaceModelsMissing, match="CLIPCREW_FACE_MODELS"):
        load_analyzer("insightface", None)
    with pytest.raises(ValueError, match="unknown face backend 'mediapipe'"):
        load_analyzer("mediapipe", pack)


@pytest.fixture(scope="module")
def swapper(tmp_path_factory: pytest.TempPathFactory) -> FaceSwapper:
    return FaceSwapper.load(build_tiny_swapper(tmp_path_factory.mktemp("swap") / "inswap.onnx"))


def test_the_swapper_loads_as_insightfaces_inswapper(tmp_path: Path, pack: Path) -> None:
    from insightface.model_zoo import get_model
    from insightface.model_zoo.inswapper import INSwapper

    path = build_tiny_swapper(tmp_path / "inswapper_128.onnx")
    assert isinstance(get_model(str(path)), INSwapper)
    assert isinstance(FaceSwapper.load(path).model, INSwapper)
    with pytest.raises(FaceModelsMissing, match="is missing"):
        FaceSwapper.load(tmp_path / "nothing.onnx")
    with pytest.raises(FaceModelsMissing, match="not an INSwapper"):
        FaceSwapper.load(pack / "w_tiny.onnx")


def test_swap_repaints_the_face_only(analyzer: InsightFaceAnalyzer, swapper: FaceSwapper) -> None:
    source = only_face_embedding(analyzer, face_photo(7))
    boxes = [FACE_BOX, (128, 128, 192, 192), None]
    frames = np.stack(
        [face_photo(1, box=box) if box else np.full((256, 256, 3), 20, np.uint8) for box in boxes]
    )
    swapped = swapper.swap(frames, source, analyzer)
    assert swapped.shape == frames.shape
    assert swapped.dtype == np.uint8
    # A frame without a face comes back as it was.
    np.testing.assert_array_equal(swapped[2], frames[2])
    for frame, result, box in zip(frames[:2], swapped[:2], boxes[:2], strict=True):
        assert box is not None
        left, top, right, bottom = box
        changed = np.abs(result.astype(int) - frame.astype(int)).max(axis=2) > 2
        # Most of the face is repainted ...
        assert changed[top:bottom, left:right].mean() > 0.5
        # ... and nothing further than a third of the face from its box.
        margin = (right - left) // 3
        outside = np.ones_like(changed)
        outside[top - margin : bottom + margin, left - margin : right + margin] = False
        assert not changed[outside].any()
    # Another identity paints another face.
    other = swapper.swap(frames[:1], only_face_embedding(analyzer, face_photo(8)), analyzer)
    assert not np.array_equal(other[0], swapped[0])


def test_swap_refuses_bad_input(analyzer: InsightFaceAnalyzer, swapper: FaceSwapper) -> None:
    source = only_face_embedding(analyzer, face_photo(7))
    frames = face_photo(1)[np.newaxis]
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\) uint8"):
        swapper.swap(frames[0], source, analyzer)
    with pytest.raises(FaceModelMismatch, match="dlib"):
        swapper.swap(frames, Embedding(vector=np.zeros(128), backend="dlib"), analyzer)
    with pytest.raises(FaceModelMismatch, match="512-number"):
        swapper.swap(frames, dataclasses.replace(source, vector=np.ones(128)), analyzer)

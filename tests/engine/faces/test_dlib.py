"""The dlib backend on real photos: detection, landmarks, pose and identity."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engine.faces import Embedding, FaceModelMismatch
from engine.faces.dlib_backend import DlibAnalyzer
from engine.faces.types import FaceModelsMissing
from tests.engine.faces import photos

pytest.importorskip("dlib")


def only_face_embedding(analyzer: DlibAnalyzer, image: np.ndarray) -> Embedding:
    faces = analyzer.detect(image)
    assert len(faces) == 1
    return analyzer.embed(image, faces[0])


@pytest.mark.parametrize("photo", [photos.astronaut, photos.grace_hopper])
def test_one_face_with_68_landmarks(
    analyzer: DlibAnalyzer, photo: Callable[[], np.ndarray]
) -> None:
    image = photo()
    [face] = analyzer.detect(image)
    assert face.landmarks.shape == (68, 2)
    # The landmarks lie on the face: their centre is inside the box.
    centre_x, centre_y = face.landmarks.mean(axis=0)
    assert face.box.left < centre_x < face.box.right
    assert face.box.top < centre_y < face.box.bottom
    assert face.size > 80
    assert face.sharpness > 50
    # Both sitters look roughly into the camera.
    assert abs(face.yaw_degrees) < 10
    embedding = analyzer.embed(image, face)
    assert embedding.backend == "dlib"
    assert embedding.vector.shape == (128,)


@pytest.mark.parametrize("photo", [photos.astronaut, photos.grace_hopper])
@pytest.mark.parametrize("edit", [photos.shifted, photos.rotated, photos.scaled, photos.jpeg_30])
def test_the_same_photo_edited_is_the_same_person(
    analyzer: DlibAnalyzer,
    photo: Callable[[], np.ndarray],
    edit: Callable[[np.ndarray], np.ndarray],
) -> None:
    image = photo()
    original = only_face_embedding(analyzer, image)
    edited = only_face_embedding(analyzer, edit(image))
    assert analyzer.distance(original, edited) < analyzer.threshold
    assert analyzer.same_person(original, edited)


def test_two_people_are_different(analyzer: DlibAnalyzer) -> None:
    astronaut = only_face_embedding(analyzer, photos.astronaut())
    hopper = only_face_embedding(analyzer, photos.grace_hopper())
    assert analyzer.distance(astronaut, hopper) > analyzer.threshold
    assert not analyzer.same_person(astronaut, hopper)


def flat_grey() -> np.ndarray:
    return np.full((300, 400, 3), 127, dtype=np.uint8)


@pytest.mark.parametrize("picture", [photos.coffee, flat_grey])
def test_no_face(analyzer: DlibAnalyzer, picture: Callable[[], np.ndarray]) -> None:
    assert analyzer.detect(picture()) == []


def test_two_faces_side_by_side(analyzer: DlibAnalyzer) -> None:
    astronaut, hopper = photos.astronaut(), photos.grace_hopper()
    canvas = photos.side_by_side(astronaut, hopper)
    faces = analyzer.detect(canvas)
    assert len(faces) == 2
    # Largest first: Grace Hopper's face, on the right half, is the bigger one.
    assert faces[0].size > faces[1].size
    assert faces[0].box.left >= astronaut.shape[1] > faces[1].box.right
    hopper_alone = only_face_embedding(analyzer, hopper)
    astronaut_alone = only_face_embedding(analyzer, astronaut)
    assert analyzer.same_person(analyzer.embed(canvas, faces[0]), hopper_alone)
    assert analyzer.same_person(analyzer.embed(canvas, faces[1]), astronaut_alone)


@pytest.mark.parametrize("degrees", [-30, 30])
def test_a_turned_face_and_its_mirror_image_have_opposite_yaw(
    analyzer: DlibAnalyzer, degrees: float
) -> None:
    image = photos.astronaut()
    [face] = analyzer.detect(image)
    centre_x = (face.box.left + face.box.right) / 2
    turned = photos.turned(image, centre_x, radius=0.6 * face.box.width, degrees=degrees)
    [turned_face] = analyzer.detect(turned)
    [mirrored_face] = analyzer.detect(np.ascontiguousarray(turned[:, ::-1]))
    yaw, mirrored_yaw = turned_face.yaw_degrees, mirrored_face.yaw_degrees
    # The cylinder turn is milder than a real one (no nose stands out), hence 10, not 30.
    assert abs(yaw) > 10
    assert np.sign(yaw) == np.sign(degrees)
    assert np.sign(mirrored_yaw) == -np.sign(yaw)
    # dlib's landmarks are not exactly mirror-symmetric; within a few degrees.
    assert abs(yaw + mirrored_yaw) < 5


def test_embeddings_of_another_backend_are_refused(analyzer: DlibAnalyzer) -> None:
    ours = only_face_embedding(analyzer, photos.astronaut())
    theirs = Embedding(vector=np.zeros(512), backend="insightface")
    with pytest.raises(FaceModelMismatch, match="insightface face model cannot be compared"):
        analyzer.distance(ours, theirs)


@pytest.mark.parametrize(
    "image",
    [np.zeros((64, 64), dtype=np.uint8), np.zeros((64, 64, 3), dtype=np.float32)],
    ids=["grey", "float"],
)
def test_only_rgb_uint8_images(analyzer: DlibAnalyzer, image: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8 RGB"):
        analyzer.detect(image)


def test_a_folder_without_the_weights_says_which_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FaceModelsMissing, match=r"shape_predictor_68_face_landmarks\.dat"):
        DlibAnalyzer.load(folder=tmp_path)


def test_importing_engine_faces_loads_neither_dlib_nor_numpy() -> None:
    code = (
        "import sys, engine.faces\n"
        "print([m for m in ('dlib', 'numpy') if m in sys.modules])\n"
        "import engine.faces.dlib_backend\n"
        "print('dlib' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # The backend module too waits for load() before it imports dlib.
    assert result.stdout.splitlines() == ["[]", "False"]

"""Cameo heads in the sketch engine's cartoon, checked with real dlib on the astronaut photo."""

from __future__ import annotations

import numpy as np
import pytest

from engine.composite import CameoLook, composite_cameos
from engine.faces.dlib_backend import DlibAnalyzer
from tests.engine.cartoons import astronaut_crops, cartoon
from tests.engine.faces import photos


@pytest.fixture(scope="module")
def eileen(analyzer: DlibAnalyzer) -> CameoLook:
    return CameoLook("Eileen", astronaut_crops(analyzer))


def test_heads_are_pasted_in_place_keeping_shape_and_type(eileen: CameoLook) -> None:
    before = cartoon(frames=6)
    frames = before.copy()
    composite_cameos(frames, [eileen], seed=1)
    assert frames.shape == before.shape
    assert frames.dtype == np.uint8
    changed = np.any(frames != before, axis=-1)
    # Every frame got a head: a sizeable patch, not the whole frame.
    assert all(0.05 < share < 0.5 for share in changed.mean(axis=(1, 2)))


def test_no_cameos_leaves_the_frames_alone() -> None:
    before = cartoon(frames=3)
    frames = before.copy()
    composite_cameos(frames, [], seed=1)
    assert np.array_equal(frames, before)


def test_the_same_seed_gives_the_same_pixels(eileen: CameoLook) -> None:
    first, second, other = cartoon(frames=12), cartoon(frames=12), cartoon(frames=12)
    composite_cameos(first, [eileen], seed=7)
    composite_cameos(second, [eileen], seed=7)
    composite_cameos(other, [eileen], seed=8)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_dlib_finds_the_pasted_face_as_the_astronaut(
    analyzer: DlibAnalyzer, eileen: CameoLook
) -> None:
    frames = cartoon(frames=24)
    composite_cameos(frames, [eileen], seed=3, fps=12)
    [reference] = analyzer.detect(photos.astronaut())
    astronaut = analyzer.embed(photos.astronaut(), reference)
    found, centres, yaws = 0, set(), []
    for frame in frames[::2]:
        faces = analyzer.detect(frame)
        if len(faces) != 1:
            continue
        found += 1
        face = faces[0]
        centres.add(((face.box.left + face.box.right) // 2, (face.box.top + face.box.bottom) // 2))
        yaws.append(face.yaw_degrees)
        assert analyzer.same_person(analyzer.embed(frame, face), astronaut)
    assert found >= 0.8 * len(frames[::2])
    # The head bobs and sways, and turns through its crops.
    assert len(centres) > 3
    assert max(yaws) - min(yaws) > 10


def test_several_cameos_stand_side_by_side(analyzer: DlibAnalyzer, eileen: CameoLook) -> None:
    hopper = photos.grace_hopper()
    [face] = analyzer.detect(hopper)
    box, margin = face.box, round(face.size / 4)
    grace = CameoLook(
        "Grace Hopper", (hopper[box.top - margin : box.bottom + margin, box.left - margin :],)
    )
    frames = cartoon(frames=6, side=512)
    composite_cameos(frames, [eileen, grace, eileen], seed=2)
    for frame in frames[::2]:
        faces = sorted(analyzer.detect(frame), key=lambda face: face.box.left)
        assert len(faces) == 3
        assert faces[0].box.right < faces[1].box.left < faces[1].box.right < faces[2].box.left


def test_bad_inputs_are_refused(eileen: CameoLook) -> None:
    frames = cartoon(frames=2)
    with pytest.raises(ValueError, match="uint8"):
        composite_cameos(frames.astype(np.float32), [eileen], seed=1)
    with pytest.raises(ValueError, match="too small"):
        composite_cameos(frames[:, :32, :32], [eileen], seed=1)
    with pytest.raises(ValueError, match="at most 4 cameos"):
        composite_cameos(frames, [eileen] * 5, seed=1)
    with pytest.raises(ValueError, match="no face crops"):
        composite_cameos(frames, [CameoLook("Nobody", ())], seed=1)
    with pytest.raises(ValueError, match="not \\(H, W, 3\\) uint8"):
        composite_cameos(frames, [CameoLook("Grey", (np.zeros((50, 50), np.uint8),))], seed=1)
    frames.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        composite_cameos(frames, [eileen], seed=1)
    with pytest.raises(ValueError, match="fps"):
        composite_cameos(cartoon(frames=2), [eileen], seed=1, fps=0)

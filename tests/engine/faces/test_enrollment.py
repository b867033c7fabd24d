"""Selfie-clip verification with real dlib on clips made from real photos (tests/.../clips)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import EnrollmentLimits
from engine.faces import Embedding
from engine.faces.dlib_backend import DlibAnalyzer
from engine.faces.enrollment import (
    ClipTooLong,
    ClipTooShort,
    DifferentPeople,
    EnrollmentRefused,
    FaceBlurry,
    FaceTooSmall,
    FlatPicture,
    LooksLikeSomeoneElse,
    NoFace,
    SeveralFaces,
    StillPhoto,
    TooLittleTurn,
    UnreadableVideo,
    VideoTooLarge,
    homography,
    project,
    verify_selfie,
)
from engine.faces.video import sample_frames
from tests.engine.faces import clips, photos

pytest.importorskip("dlib")


@pytest.fixture(scope="module")
def head_turn() -> bytes:
    return clips.head_turn()


def test_a_head_turn_is_accepted(analyzer: DlibAnalyzer, head_turn: bytes) -> None:
    enrollment = verify_selfie(head_turn, analyzer)
    limits = EnrollmentLimits()
    assert enrollment.yaw_span > limits.min_yaw_range_degrees
    assert enrollment.yaw_range[0] < 0 < enrollment.yaw_range[1]
    assert enrollment.planar_error > limits.planar_max_error
    assert enrollment.frames_with_one_face >= 0.7 * enrollment.frames_sampled
    assert enrollment.duration_s == pytest.approx(2.0, abs=0.15)
    # The mean embedding is the astronaut's.
    [face] = analyzer.detect(photos.astronaut())
    assert analyzer.same_person(enrollment.embedding, analyzer.embed(photos.astronaut(), face))
    assert enrollment.nearest_other == np.inf
    assert 1 <= len(enrollment.crops) <= limits.reference_crops
    for crop in enrollment.crops:
        assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
        assert min(crop.shape[:2]) >= limits.min_face_px


def test_a_heavily_compressed_head_turn_is_still_accepted(analyzer: DlibAnalyzer) -> None:
    clip = clips.head_turn(crf=40)
    assert len(clip) < 10_000
    enrollment = verify_selfie(clip, analyzer)
    assert enrollment.yaw_span > EnrollmentLimits().min_yaw_range_degrees
    assert enrollment.identity_spread < analyzer.threshold


def test_a_flat_photo_moved_about_is_a_still_photo(analyzer: DlibAnalyzer) -> None:
    with pytest.raises(FlatPicture, match="photo or a screen") as caught:
        verify_selfie(clips.flat_photo_moved(), analyzer)
    assert isinstance(caught.value, StillPhoto)


def test_a_face_held_still_has_too_little_turn(analyzer: DlibAnalyzer) -> None:
    clip = clips.encode_still(photos.astronaut())
    with pytest.raises(TooLittleTurn, match="turn it clearly left and then right"):
        verify_selfie(clip, analyzer)


def test_two_faces_are_refused(analyzer: DlibAnalyzer) -> None:
    with pytest.raises(SeveralFaces, match="more than one face"):
        verify_selfie(clips.two_faces(), analyzer)


def test_no_face_is_refused(analyzer: DlibAnalyzer) -> None:
    with pytest.raises(NoFace, match="could not find your face"):
        verify_selfie(clips.gradient(), analyzer)


def test_a_face_enrolled_by_someone_else_is_refused(
    analyzer: DlibAnalyzer, head_turn: bytes
) -> None:
    image = photos.astronaut()
    [face] = analyzer.detect(image)
    theirs = analyzer.embed(image, face)
    others = [("grace", Embedding(np.full(128, 0.5), "dlib")), ("someone", theirs)]
    with pytest.raises(LooksLikeSomeoneElse) as caught:
        verify_selfie(head_turn, analyzer, enrolled=others)
    # The message names no one.
    assert "someone who already has a cameo" in str(caught.value)
    assert "grace" not in str(caught.value)


def test_a_different_person_enrolled_does_not_block(
    analyzer: DlibAnalyzer, head_turn: bytes
) -> None:
    hopper = photos.grace_hopper()
    [face] = analyzer.detect(hopper)
    enrollment = verify_selfie(
        head_turn, analyzer, enrolled=[("grace", analyzer.embed(hopper, face))]
    )
    assert analyzer.threshold < enrollment.nearest_other < np.inf


def test_the_face_changing_midway_is_refused(analyzer: DlibAnalyzer) -> None:
    clip = clips.encode_frames([photos.astronaut()] * 5 + [clips.hopper_512()] * 5, fps=5)
    with pytest.raises(DifferentPeople, match="you, and only you"):
        verify_selfie(clip, analyzer)


def test_garbage_is_unreadable(analyzer: DlibAnalyzer) -> None:
    with pytest.raises(UnreadableVideo, match="could not read that video"):
        verify_selfie(b"\x00not a video at all" * 100, analyzer)


def test_a_20_second_clip_is_too_long(analyzer: DlibAnalyzer) -> None:
    clip = clips.gradient(seconds=20, fps=2, side=64)
    with pytest.raises(ClipTooLong, match="under 15 s"):
        verify_selfie(clip, analyzer)


def test_a_half_second_clip_is_too_short(analyzer: DlibAnalyzer) -> None:
    with pytest.raises(ClipTooShort, match=r"at least 1\.5 s"):
        verify_selfie(clips.gradient(seconds=0.6, fps=5, side=64), analyzer)


def test_too_many_bytes_are_refused_before_decoding(
    analyzer: DlibAnalyzer, head_turn: bytes
) -> None:
    limits = EnrollmentLimits(max_bytes=len(head_turn) - 1)
    with pytest.raises(VideoTooLarge, match="the limit is"):
        verify_selfie(head_turn, analyzer, limits=limits)


def test_small_and_blurry_faces_are_refused(analyzer: DlibAnalyzer, head_turn: bytes) -> None:
    with pytest.raises(FaceTooSmall, match="closer"):
        verify_selfie(head_turn, analyzer, limits=EnrollmentLimits(min_face_px=200))
    with pytest.raises(FaceBlurry, match="blurry"):
        verify_selfie(head_turn, analyzer, limits=EnrollmentLimits(min_sharpness=10_000))


def test_every_refusal_is_an_enrollment_refusal() -> None:
    for refusal in (UnreadableVideo, NoFace, SeveralFaces, FlatPicture, LooksLikeSomeoneElse):
        assert issubclass(refusal, EnrollmentRefused)


def test_homography_recovers_a_known_perspective_map() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 200, size=(20, 2))
    known = np.array([[1.1, 0.1, 5.0], [-0.05, 0.95, -3.0], [0.0005, -0.0003, 1.0]])
    fitted = homography(points, project(known, points))
    assert np.allclose(fitted, known, atol=1e-6)


def test_frames_are_sampled_evenly_over_the_clip() -> None:
    clip = clips.gradient(seconds=12, fps=10, side=64)
    sampled = sample_frames(clip, count=10, max_seconds=15)
    assert sampled.frames.shape == (10, 64, 64, 3)
    assert sampled.duration_s == pytest.approx(12, abs=0.2)
    gaps = np.diff(sampled.times_s)
    assert np.allclose(gaps, 1.2, atol=0.11)
    assert sampled.times_s[0] < 1.2 and sampled.times_s[-1] > 10.8

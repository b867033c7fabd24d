"""The output check with real dlib on cartoons with a real face pasted in (engine.composite)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pytest

from engine.composite import CameoLook, composite_cameos
from engine.faces import Embedding, Face
from engine.faces.dlib_backend import DlibAnalyzer
from engine.faces.output_check import OutputScan, scan_clip, scan_frames
from tests.engine.cartoons import astronaut_crops, cartoon
from tests.engine.faces import clips, photos

pytest.importorskip("dlib")


@dataclass
class Counting:
    """The real analyzer, counting its calls and the sizes of the images it is shown."""

    inner: DlibAnalyzer
    detections: int = 0
    embeddings: int = 0
    detected_sides: tuple[int, ...] = ()
    name: str = "dlib"
    threshold: float = 0.6

    def detect(self, image: np.ndarray) -> list[Face]:
        self.detections += 1
        self.detected_sides += (max(image.shape[:2]),)
        return self.inner.detect(image)

    def embed(self, image: np.ndarray, face: Face) -> Embedding:
        self.embeddings += 1
        return self.inner.embed(image, face)

    def distance(self, a: Embedding, b: Embedding) -> float:
        return self.inner.distance(a, b)

    def same_person(self, a: Embedding, b: Embedding) -> bool:
        return self.inner.same_person(a, b)


def _embedding(analyzer: DlibAnalyzer, image: np.ndarray) -> Embedding:
    [face] = analyzer.detect(image)
    return analyzer.embed(image, face)


@pytest.fixture(scope="module")
def enrolled(analyzer: DlibAnalyzer) -> list[tuple[str, Embedding]]:
    return [
        ("astronaut", _embedding(analyzer, photos.astronaut())),
        ("hopper", _embedding(analyzer, photos.grace_hopper())),
    ]


@pytest.fixture(scope="module")
def cameo_frames(analyzer: DlibAnalyzer) -> np.ndarray:
    frames = cartoon(frames=24, fps=12)
    composite_cameos(frames, [CameoLook("Eileen", astronaut_crops(analyzer))], seed=4, fps=12)
    return frames


@pytest.fixture(scope="module")
def cameo_clip(cameo_frames: np.ndarray) -> bytes:
    return clips.encode_frames(list(cameo_frames), fps=12)


def test_a_pasted_cameo_matches_its_own_face_only(
    analyzer: DlibAnalyzer, enrolled: list[tuple[str, Embedding]], cameo_clip: bytes
) -> None:
    scan = scan_clip(cameo_clip, analyzer, enrolled, samples=3)
    assert scan.matches == {"astronaut"}
    assert scan.frames_sampled == 3
    assert scan.faces_seen == 3
    assert scan.distances["astronaut"] < analyzer.threshold <= scan.distances["hopper"]
    assert scan.similarity("astronaut") > 0.7
    assert scan.similarity("hopper") < 0.5


def test_a_clip_without_faces_matches_nothing(
    analyzer: DlibAnalyzer, enrolled: list[tuple[str, Embedding]]
) -> None:
    clip = clips.encode_frames(list(cartoon(frames=12)), fps=12)
    scan = scan_clip(clip, analyzer, enrolled, samples=4)
    assert scan.matches == frozenset()
    assert scan.distances == {}
    assert (scan.frames_sampled, scan.faces_seen) == (4, 0)
    assert scan.similarity("astronaut") == 0.0


def test_with_nothing_enrolled_nothing_is_decoded_detected_or_embedded(
    analyzer: DlibAnalyzer, cameo_frames: np.ndarray
) -> None:
    counting = Counting(analyzer)
    # Not even a video: it is never opened.
    scan: OutputScan[str] = scan_clip(b"not a video", counting, [], samples=6)
    assert (scan.frames_sampled, scan.faces_seen, scan.matches) == (0, 0, frozenset())
    scan_frames(cameo_frames, counting, [])
    assert (counting.detections, counting.embeddings) == (0, 0)


def test_each_sampled_face_is_detected_and_embedded_once(
    analyzer: DlibAnalyzer, enrolled: list[tuple[str, Embedding]], cameo_frames: np.ndarray
) -> None:
    counting = Counting(analyzer)
    scan = scan_frames(cameo_frames, counting, enrolled, samples=4)
    assert (counting.detections, counting.embeddings) == (4, scan.faces_seen)
    assert scan.frames_sampled == 4
    assert scan.matches == {"astronaut"}


def test_a_face_from_another_backend_is_skipped_with_a_warning(
    analyzer: DlibAnalyzer,
    enrolled: list[tuple[str, Embedding]],
    cameo_frames: np.ndarray,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = Embedding(vector=np.zeros(512), backend="insightface")
    with caplog.at_level(logging.WARNING, logger="engine.faces.output_check"):
        scan = scan_frames(cameo_frames, analyzer, [("old", old), *enrolled], samples=2)
    assert scan.matches == {"astronaut"}
    assert "old" not in scan.distances
    assert "insightface" in caplog.text
    # Only such faces enrolled: nothing to compare, so nothing is detected.
    counting = Counting(analyzer)
    scan = scan_frames(cameo_frames, counting, [("old", old)])
    assert (counting.detections, scan.distances) == (0, {})


def test_a_key_enrolled_twice_keeps_its_best_distance(
    analyzer: DlibAnalyzer, enrolled: list[tuple[str, Embedding]], cameo_frames: np.ndarray
) -> None:
    astronaut, hopper = enrolled[0][1], enrolled[1][1]
    both = [("eileen", hopper), ("eileen", astronaut)]
    scan = scan_frames(cameo_frames, analyzer, both, samples=2)
    alone = scan_frames(cameo_frames, analyzer, [("eileen", astronaut)], samples=2)
    assert scan.matches == {"eileen"}
    assert scan.distances["eileen"] == alone.distances["eileen"]


def test_detection_on_smaller_frames_still_embeds_the_face(
    analyzer: DlibAnalyzer, enrolled: list[tuple[str, Embedding]], cameo_frames: np.ndarray
) -> None:
    counting = Counting(analyzer)
    scan = scan_frames(cameo_frames, counting, enrolled, samples=3, detect_side=384)
    assert counting.detected_sides == (384, 384, 384)
    assert scan.faces_seen == 3
    full = scan_frames(cameo_frames, analyzer, enrolled, samples=3, detect_side=None)
    assert scan.matches == full.matches == {"astronaut"}
    assert scan.distances["astronaut"] == pytest.approx(full.distances["astronaut"], abs=0.1)


def test_several_cameos_are_each_found(
    analyzer: DlibAnalyzer, enrolled: list[tuple[str, Embedding]]
) -> None:
    hopper = photos.grace_hopper()
    [face] = analyzer.detect(hopper)
    box, margin = face.box, round(face.size / 4)
    crop = hopper[box.top - margin : box.bottom + margin, box.left - margin : box.right + margin]
    eileen = CameoLook("Eileen", astronaut_crops(analyzer))
    frames = cartoon(frames=12)
    composite_cameos(frames, [eileen, CameoLook("Grace", (crop,)), eileen], seed=6)
    # The smallest faces here are about 86 px; still found on frames scaled down to 384 px.
    scan = scan_frames(frames, analyzer, enrolled, detect_side=384)
    assert scan.faces_seen == 3 * scan.frames_sampled
    assert scan.matches == {"astronaut", "hopper"}


def test_similarity_reads_the_distance_on_the_threshold_scale() -> None:
    distances = {"same": 0.0, "edge": 0.6, "far": 1.5, "close": 0.3}
    scan = OutputScan(
        distances=distances,
        matches=frozenset({"same", "close"}),
        frames_sampled=1,
        faces_seen=1,
        threshold=0.6,
    )
    assert scan.similarity("same") == 1.0
    assert scan.similarity("close") == pytest.approx(0.75)
    assert scan.similarity("edge") == pytest.approx(0.5)
    assert scan.similarity("far") == 0.0
    assert scan.similarity("absent") == 0.0


def test_bad_options_are_refused(
    analyzer: DlibAnalyzer, enrolled: list[tuple[str, Embedding]], cameo_frames: np.ndarray
) -> None:
    with pytest.raises(ValueError, match="samples"):
        scan_frames(cameo_frames, analyzer, enrolled, samples=0)
    with pytest.raises(ValueError, match="detect_side"):
        scan_frames(cameo_frames, analyzer, enrolled, detect_side=0)
    with pytest.raises(ValueError, match="N, H, W, 3"):
        scan_frames(cameo_frames[0], analyzer, enrolled)

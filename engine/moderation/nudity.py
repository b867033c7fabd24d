"""The nudity check on a finished clip's frames: NudeNet's detector (its ONNX model ships in the
`nudenet` wheel; nothing is downloaded) on a few evenly spaced frames, before encoding.

A clip's score is the highest confidence of an exposed-body-part detection in any sampled frame;
the job's threshold (RenderRequest.nudity_limit, from the chat's preset) decides.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engine.cameos import Blocked

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

NUDITY_BLOCKED = (
    "This clip wasn't posted: the finished picture showed nudity, which this chat's policy "
    "doesn't allow. Try a different prompt."
)
# NudeNet's classes that count as nudity; covered parts, faces, feet and bellies do not.
EXPOSED = frozenset(
    {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
# Engines that only draw their own cartoon shapes (and cameo face crops): they cannot show
# nudity, and NudeNet misreads their round shapes (a pink sketch frog with two eyes scored 0.8
# as exposed breasts), so their clips skip the check rather than being blocked by mistake.
DRAWN_ENGINES = frozenset({"sketch"})
# Frames checked per second of clip, and at most in all: about 75 ms each on a busy 2-core CPU.
SAMPLES_PER_SECOND = 1.0
MAX_SAMPLES = 8


class NudityBlocked(Blocked):
    """The frames show nudity above the job's threshold: the job ends BLOCKED, like a face
    without consent."""

    def __init__(self) -> None:
        super().__init__(NUDITY_BLOCKED)


class NudityDetector(Protocol):
    def score(self, frame: np.ndarray) -> float:
        """The highest nudity confidence (0..1) in one (height, width, 3) uint8 RGB frame."""
        ...


@dataclass(frozen=True, eq=False)
class NudeNet:
    """NudeNet's 320 px detector, on one onnxruntime thread: a frame is small work, and on a
    busy machine one thread was twice as fast as several waiting for each other."""

    detector: Any

    @classmethod
    def load(cls) -> NudeNet:
        from pathlib import Path

        import nudenet
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # Two threads: the check runs between rendering and encoding, when nothing else of this
        # job competes for the CPU, and post-processing must stay within a second.
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
        model = Path(nudenet.__file__).parent / "320n.onnx"
        detector = nudenet.NudeDetector()
        # NudeDetector takes no session options: give it a session made with ours.
        detector.onnx_session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        return cls(detector)

    def score(self, frame: np.ndarray) -> float:
        import numpy as np

        bgr = np.ascontiguousarray(frame[..., ::-1])  # NudeNet reads OpenCV's BGR order
        found = self.detector.detect(bgr)
        return max((float(d["score"]) for d in found if d["class"] in EXPOSED), default=0.0)


def sample_indices(frame_count: int, fps: float) -> list[int]:
    """Evenly spaced frames, about SAMPLES_PER_SECOND of them per second of clip."""
    wanted = round(frame_count / fps * SAMPLES_PER_SECOND)
    count = max(1, min(MAX_SAMPLES, wanted, frame_count))
    step = frame_count / count
    return [min(frame_count - 1, int(step * (number + 0.5))) for number in range(count)]


def nudity_score(frames: np.ndarray, fps: float, detector: NudityDetector) -> float:
    """The clip's nudity score: the highest over its sampled frames (stops early at a hit of
    certainty)."""
    best = 0.0
    for index in sample_indices(len(frames), fps):
        best = max(best, detector.score(frames[index]))
        if best >= 1.0:
            break
    return best


NudityScreen = Callable[["np.ndarray"], None]


def nudity_screen(detector: NudityDetector | None, *, fps: float, limit: float) -> NudityScreen:
    """The check for one job, run on its frames in the render thread: raises NudityBlocked
    when the clip scores above `limit`. `detector` None is NudeNet, loaded there on first use
    (a fraction of a second)."""

    def screen(frames: np.ndarray) -> None:
        score = nudity_score(frames, fps, detector or shared_detector())
        if score > limit:
            log.warning("clip blocked by the nudity check", extra={"score": round(score, 3)})
            raise NudityBlocked()

    return screen


_lock = threading.Lock()
_shared: NudityDetector | None = None


def shared_detector() -> NudityDetector:
    """The process's one NudeNet detector, loaded on first use (0.1-0.3 s)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = NudeNet.load()
        return _shared

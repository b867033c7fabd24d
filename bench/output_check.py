"""How long the output check on a finished clip takes for a 5 s, 30 fps clip, with real dlib.

    .venv/bin/python bench/output_check.py [--runs 7] [--samples 1 2 3 6] [--detect-side 0 384 320]
        [--source frames clip]

The clip is the sketch engine's cartoon, 512x512, with the astronaut's face composited into it
as a cameo (engine.composite); three embeddings are enrolled: the astronaut, Grace Hopper and
a third face. Each row times one scan: `scan_frames` on the frames in memory (what the worker
runs, before encoding) or `scan_clip` on the encoded file, for one number of sampled frames and
one detection
size (0, shown as `-`, is the full frame): median and fastest seconds per scan, then the median
milliseconds (and share) spent decoding and picking frames, detecting faces and embedding them
(the analyzer is wrapped to time its calls), faces seen, and the similarity of the closest face
to the astronaut and to the others. The first run of each row is left out of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

# The photos and the clip encoder are the tests' own helpers, which sit beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.composite import CameoLook, composite_cameos
from engine.faces.dlib_backend import DlibAnalyzer
from engine.faces.output_check import scan_clip, scan_frames
from engine.faces.types import Embedding, Face
from engine.request import RenderRequest
from engine.sketch import SketchBackend
from tests.engine.faces import clips, photos


@dataclass
class Timed:
    """The real analyzer, with the seconds spent in detect and embed added up."""

    inner: DlibAnalyzer
    detect_s: float = 0.0
    embed_s: float = 0.0
    name: str = field(default="dlib")
    threshold: float = field(default=0.6)

    def detect(self, image: np.ndarray) -> list[Face]:
        start = time.perf_counter()
        try:
            return self.inner.detect(image)
        finally:
            self.detect_s += time.perf_counter() - start

    def embed(self, image: np.ndarray, face: Face) -> Embedding:
        start = time.perf_counter()
        try:
            return self.inner.embed(image, face)
        finally:
            self.embed_s += time.perf_counter() - start

    def distance(self, a: Embedding, b: Embedding) -> float:
        return self.inner.distance(a, b)

    def same_person(self, a: Embedding, b: Embedding) -> bool:
        return self.inner.same_person(a, b)


def _embedding(analyzer: DlibAnalyzer, image: np.ndarray) -> Embedding:
    face = analyzer.detect(image)[0]
    return analyzer.embed(image, face)


def _crops(analyzer: DlibAnalyzer) -> tuple[np.ndarray, ...]:
    """The astronaut turned left, ahead and right, cut around dlib's box as enrollment does."""
    image = photos.astronaut()
    crops = []
    for degrees in (-20, 0, 20):
        turned = photos.turned(image, 222.5, radius=0.6 * 87, degrees=degrees)
        face = analyzer.detect(turned)[0]
        box, margin = face.box, round(face.size / 4)
        crop = turned[max(box.top - margin, 0) : box.bottom + margin]
        crops.append(np.ascontiguousarray(crop[:, max(box.left - margin, 0) : box.right + margin]))
    return tuple(crops)


def _third_face() -> np.ndarray:
    import insightface

    path = Path(insightface.__file__).parent / "data" / "images" / "Tom_Hanks_54745.png"
    return np.asarray(Image.open(path).convert("RGB"))


def _clip(analyzer: DlibAnalyzer, seconds: float, fps: int) -> tuple[np.ndarray, bytes]:
    request = RenderRequest(prompt="a cat at a party", seed=3, fps=fps, duration_s=seconds)
    frames = SketchBackend().render_frames(request, lambda step, steps: None)
    composite_cameos(frames, [CameoLook("Eileen", _crops(analyzer))], seed=3, fps=fps)
    return frames, clips.encode_frames(list(frames), fps=fps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--samples", type=int, nargs="+", default=[1, 2, 3, 6])
    parser.add_argument("--detect-side", type=int, nargs="+", default=[0, 384, 320])
    # The worker checks the frames in memory before encoding (engine.pipeline step 5); `clip`
    # decodes an encoded file first, as a check of an uploaded or stored clip would.
    parser.add_argument(
        "--source", choices=["frames", "clip"], nargs="+", default=["frames", "clip"]
    )
    options = parser.parse_args()
    analyzer = DlibAnalyzer.load()
    frames, clip = _clip(analyzer, options.seconds, options.fps)
    enrolled = [
        ("astronaut", _embedding(analyzer, photos.astronaut())),
        ("hopper", _embedding(analyzer, photos.grace_hopper())),
        ("hanks", _embedding(analyzer, _third_face())),
    ]
    print(
        f"{options.seconds:g} s 512x512 at {options.fps} fps ({len(clip):,} bytes), one cameo, "
        f"{len(enrolled)} enrolled, {os.cpu_count()} CPUs, {options.runs} runs"
    )
    print(
        "source samples side  median    min      decode        detect         embed"
        "     faces  astronaut  others"
    )
    for source in options.source:
        video = frames if source == "frames" else clip
        for side in options.detect_side:
            for samples in options.samples:
                _row(analyzer, video, enrolled, samples, side or None, options.runs)
    print(f"load avg {os.getloadavg()[0]:.2f}  (other work on this machine slows wall time)")


def _row(
    analyzer: DlibAnalyzer,
    clip: bytes | np.ndarray,
    enrolled: list[tuple[str, Embedding]],
    samples: int,
    side: int | None,
    runs: int,
) -> None:
    totals, decode, detect, embed = [], [], [], []
    for run in range(runs + 1):
        timed = Timed(analyzer)
        start = time.perf_counter()
        if isinstance(clip, bytes):
            scan = scan_clip(clip, timed, enrolled, samples=samples, detect_side=side)
        else:
            scan = scan_frames(clip, timed, enrolled, samples=samples, detect_side=side)
        total = time.perf_counter() - start
        if run == 0:
            continue
        totals.append(total)
        detect.append(timed.detect_s)
        embed.append(timed.embed_s)
        # Decoding and picking frames, and the little else scan_clip does (downscaling, distances).
        decode.append(total - timed.detect_s - timed.embed_s)
    median = statistics.median(totals)
    parts = [statistics.median(part) for part in (decode, detect, embed)]
    others = max(scan.similarity("hopper"), scan.similarity("hanks"))
    source = "clip  " if isinstance(clip, bytes) else "frames"
    print(
        f"{source} {samples:7d} {side or '-':>4} {median:7.3f} {min(totals):6.3f}  "
        + " ".join(f"{1000 * part:4.0f} ms {part / sum(parts):4.0%}" for part in parts)
        + f" {scan.faces_seen:5d}  {scan.similarity('astronaut'):9.2f}  {others:6.2f}"
    )


if __name__ == "__main__":
    main()

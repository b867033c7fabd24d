"""Cameos in the worker: the face models it loads on first need, putting consenting people's
faces into the frames, and the output check that every finished clip passes.

The bot decides consent and records it per job; the worker reads that record when it starts
(`consented`) and checks the finished frames against every enrolled face (`output_screen`).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.config import FaceConfig
from engine.faces import load_analyzer
from engine.faces.types import Embedding, FaceAnalyzer
from engine.request import CameoRef, EngineError, RenderRequest
from storage import cameos as cameo_rows
from storage.blobs import Blobs
from storage.db import Database

if TYPE_CHECKING:
    import numpy as np

    from engine.faces.insightface_backend import InsightFaceAnalyzer
    from engine.faces.swapper import FaceSwapper

log = logging.getLogger(__name__)

BLOCKED = (
    "This clip wasn't posted: it shows the face of someone with a cameo who didn't agree to "
    "be in it. Try a different prompt."
)
WITHDRAWN = "A cameo owner withdrew their consent before the clip was made, so it was cancelled."


class ConsentWithdrawn(EngineError):
    def __init__(self) -> None:
        super().__init__(WITHDRAWN)


@dataclass
class FaceModels:
    """The face analyzer (output check) and the swapper (diffusers cameos), each loaded once,
    on first need: a worker whose chats have no cameos never loads them."""

    backend: str = "dlib"
    folder: Path | None = None
    swapper_path: Path | None = None
    _analyzer: FaceAnalyzer | None = None
    _swap: SwapTool | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def analyzer(self) -> FaceAnalyzer:
        async with self._lock:
            if self._analyzer is None:
                self._analyzer = await asyncio.to_thread(load_analyzer, self.backend, self.folder)
            return self._analyzer

    async def swap_tool(self) -> SwapTool | None:
        """The INSwapper with the InsightFace analyzer it needs; None when not configured."""
        if self.swapper_path is None:
            return None
        analyzer = await self.analyzer()
        async with self._lock:
            if self._swap is None:
                from engine.faces.insightface_backend import InsightFaceAnalyzer
                from engine.faces.swapper import FaceSwapper

                if not isinstance(analyzer, InsightFaceAnalyzer):
                    raise EngineError(
                        "CLIPCREW_SWAPPER_MODEL needs CLIPCREW_FACE_BACKEND=insightface: the "
                        "swap model reads InsightFace's face embeddings."
                    )
                swapper = await asyncio.to_thread(FaceSwapper.load, self.swapper_path)
                self._swap = SwapTool(swapper, analyzer)
            return self._swap

    @classmethod
    def from_config(cls, config: FaceConfig) -> FaceModels:
        return cls(backend=config.backend, folder=config.folder, swapper_path=config.swapper)

    def use(self, analyzer: FaceAnalyzer) -> None:
        """Use an analyzer loaded elsewhere (one-process mode shares the bot's)."""
        self._analyzer = analyzer


@dataclass(frozen=True, eq=False)
class SwapTool:
    swapper: FaceSwapper
    analyzer: InsightFaceAnalyzer


# Before rendering -----------------------------------------------------------------------------


async def consented(db: Database, blobs: Blobs, job_id: str) -> tuple[CameoRef, ...]:
    """The job's cameos, each with its owner's consent on record; raises ConsentWithdrawn when
    any of them is no longer agreed (the owner said no, revoked, or forgot the cameo)."""
    async with db.session() as session:
        cameo_ids = await cameo_rows.consented_cameo_ids(session, job_id)
        if cameo_ids is None:
            raise ConsentWithdrawn()
        if not cameo_ids:
            return ()
        found = await cameo_rows.cameos_with_owners(session, cameo_ids)
    if len(found) != len(cameo_ids):
        raise ConsentWithdrawn()  # a cameo was deleted in between
    refs = []
    for cameo, owner in found:
        assert cameo.id is not None
        crops = tuple([await blobs.read(key) for key in cameo.crop_keys])
        refs.append(CameoRef(cameo.id, owner.handle, cameo.preferences, crops))
    return tuple(refs)


# While rendering (pipeline step 4) --------------------------------------------------------------


def place_cameos(
    frames: np.ndarray, request: RenderRequest, *, engine: str, swap: SwapTool | None
) -> None:
    """Put the cameos' faces into `frames`, in place. With a swapper (the diffusers engine),
    the generated face takes the cameo's identity; the sketch engine composites the reference
    crops into its cartoon scene. Other engines without a swapper get the cameos' preferences
    in the prompt only."""
    if not request.cameos:
        return
    if swap is not None:
        _swap(frames, request, swap)
    elif engine == "sketch":
        from engine.composite import CameoLook, composite_cameos

        looks = [CameoLook(ref.name, _decode(ref.crops)) for ref in request.cameos if ref.crops]
        composite_cameos(frames, looks, seed=request.seed_for("cameos"), fps=request.fps)


def _swap(frames: np.ndarray, request: RenderRequest, swap: SwapTool) -> None:
    # INSwapper repaints the largest face of each frame: one identity per clip. The first cameo
    # takes it; a clip asking for several says so in the log rather than mixing faces.
    ref = request.cameos[0]
    if len(request.cameos) > 1:
        log.warning("face swap places one cameo per clip", extra={"job_id": request.job_id})
    crops = _decode(ref.crops)
    middle = crops[len(crops) // 2]
    faces = swap.analyzer.detect(middle)
    if not faces:
        raise EngineError(f"{ref.name}'s cameo pictures have no face the swap model can read.")
    source = swap.analyzer.embed(middle, faces[0])
    frames[...] = swap.swapper.swap(frames, source, swap.analyzer)


def _decode(crops: tuple[bytes, ...]) -> tuple[np.ndarray, ...]:
    import numpy as np
    from PIL import Image

    return tuple(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")) for png in crops)


# After rendering (pipeline step 5) -------------------------------------------------------------


class Blocked(EngineError):
    """An output check blocked the clip: by default, the frames show an enrolled face whose
    owner did not consent (engine.moderation.nudity blocks with its own sentence)."""

    def __init__(self, message: str = BLOCKED) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class OutputVerdict:
    # True when the clip shows an enrolled face whose owner did not consent.
    blocked: bool
    # Similarity (0..1) of each consenting cameo's face in the clip.
    similarities: dict[int, float]


Screen = Callable[["np.ndarray"], OutputVerdict]


async def output_screen(
    db: Database, faces: FaceModels, *, author_id: int | None, consenting: set[int]
) -> Screen | None:
    """The output check for one job, ready to run on its frames in the render thread; None
    when nobody is enrolled (then there is nothing to check and no face model is loaded).

    Every enrolled cameo is compared; the job's consenting cameos and the author's own face
    are allowed, anyone else enrolled blocks the clip."""
    import numpy as np

    async with db.session() as session:
        enrolled = await cameo_rows.all_embeddings(session)
    if not enrolled:
        return None
    allowed = consenting | {cameo_id for cameo_id, owner, _, _ in enrolled if owner == author_id}
    analyzer = await faces.analyzer()
    pairs = [
        (cameo_id, Embedding(np.asarray(vector, dtype=np.float64), model))
        for cameo_id, _, model, vector in enrolled
    ]

    def screen(frames: np.ndarray) -> OutputVerdict:
        from engine.faces.output_check import scan_frames

        scan = scan_frames(frames, analyzer, pairs)
        intruders = scan.matches - allowed
        if intruders:
            log.warning(
                "clip blocked by the output check",
                extra={"faces": scan.faces_seen, "matches": len(intruders)},
            )
        return OutputVerdict(
            blocked=bool(intruders),
            similarities={cameo_id: scan.similarity(cameo_id) for cameo_id in consenting},
        )

    return screen


async def record_similarities(db: Database, job_id: str, verdict: OutputVerdict) -> None:
    if verdict.similarities:
        async with db.transaction() as session:
            await cameo_rows.record_similarities(session, job_id, verdict.similarities)

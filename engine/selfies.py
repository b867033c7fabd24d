"""The selfie check as a light task: a stored upload in, a verified likeness (or a refusal) out.

The bot stores the person's clip as a blob and calls this through the light queue; it never
loads a face model itself. The answer is plain data: the embedding, the reference crops (stored
here as PNG blobs) and the figures the bot shows the person, or the refusal's own sentence.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.api import EnrollmentLimits
from engine.cameos import FaceModels
from engine.faces.types import Embedding, FaceAnalyzer
from engine.queue import Payload
from storage import cameos as cameo_rows
from storage.blobs import Blobs
from storage.db import Database

if TYPE_CHECKING:
    from engine.faces.enrollment import Enrollment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SelfieCheck:
    """What the bot asks: whose clip, where it is stored, and the limits it announced."""

    user_id: int
    video_key: str
    max_bytes: int
    max_seconds: float

    @classmethod
    def from_payload(cls, payload: Payload) -> SelfieCheck:
        return cls(
            user_id=int(payload["user_id"]),
            video_key=str(payload["video_key"]),
            max_bytes=int(payload["max_bytes"]),
            max_seconds=float(payload["max_seconds"]),
        )


async def check_selfie(
    db: Database, blobs: Blobs, faces: FaceModels, check: SelfieCheck
) -> Payload:
    """Verify the stored clip against everyone else's cameo; {"refused": sentence} when a check
    fails, else the verified likeness with its crops stored as blobs."""
    from engine.faces.enrollment import EnrollmentRefused

    video = await blobs.read(check.video_key)
    analyzer = await faces.analyzer()
    async with db.session() as session:
        others = await cameo_rows.other_embeddings(session, check.user_id, analyzer.name)
    try:
        result = await asyncio.to_thread(_verify, video, analyzer, others, check)
    except EnrollmentRefused as refused:
        log.info("cameo refused", extra={"reason": type(refused).__name__})
        return {"refused": str(refused)}
    crops = await asyncio.to_thread(_png_crops, result)
    keys = [await blobs.put(crop, "png") for crop in crops]
    return {
        "face_model": result.embedding.backend,
        "embedding": [float(x) for x in result.embedding.vector],
        "crop_keys": keys,
        "yaw_span": float(result.yaw_span),
        "figures": _figures(result),
    }


def _verify(
    video: bytes, analyzer: FaceAnalyzer, others: list[tuple[int, list[float]]], check: SelfieCheck
) -> Enrollment:
    import numpy as np

    from engine.faces.enrollment import verify_selfie

    enrolled = [
        (str(cameo_id), Embedding(np.asarray(vector), analyzer.name)) for cameo_id, vector in others
    ]
    limits = EnrollmentLimits(max_bytes=check.max_bytes, max_seconds=check.max_seconds)
    return verify_selfie(video, analyzer, enrolled=enrolled, limits=limits)


def _figures(result: Enrollment) -> dict[str, Any]:
    return {
        "yaw_range": [float(x) for x in result.yaw_range],
        "identity_spread": float(result.identity_spread),
        "planar_error": float(result.planar_error),
        "frames_sampled": int(result.frames_sampled),
        "frames_with_one_face": int(result.frames_with_one_face),
        "median_face_px": float(result.median_face_px),
        "duration_s": float(result.duration_s),
    }


def _png_crops(result: Enrollment) -> list[bytes]:
    from PIL import Image

    out = []
    for crop in result.crops:
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out

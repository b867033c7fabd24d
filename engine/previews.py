"""Preview frames: a small picture of the clip as it forms, shown on the status message.

The engines offer a frame a few times per render (the sketch engine a frame it drew, the
diffusers engine a rough picture from its latents); the pipeline makes it a small JPEG
(`jpeg_preview`); the worker stores it as a blob and names it in a progress event, at most
every PREVIEW_INTERVAL_S (`PreviewSender`), and deletes the blobs when the job ends. The bot
shows each at the platform's own edit rate, and the finished clip replaces it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import TYPE_CHECKING, Any

from engine.request import StageProgress
from storage.blobs import Blobs

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# The longest side of a preview: enough to see the picture, a few kB of JPEG.
PREVIEW_SIDE = 256
PREVIEW_QUALITY = 70
# How often a preview may go out; chat platforms edit a message every 2 to 3 s at most, and a
# picture that changes every few seconds reads as progress, not flicker.
PREVIEW_INTERVAL_S = 4.0
# How many previews an engine offers over one render.
PREVIEWS_PER_RENDER = 4
# A preview's blob write that takes longer than this is given up.
STORE_TIMEOUT_S = 10.0


def jpeg_preview(frame: np.ndarray) -> bytes:
    """A frame (height, width, 3) uint8 RGB as a small JPEG."""
    from PIL import Image

    image = Image.fromarray(frame)
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PREVIEW_QUALITY)
    return out.getvalue()


def latent_preview(latents: Any, channels: int) -> np.ndarray | None:
    """A rough RGB picture of the middle frame of video latents, without the VAE: the first
    three latent channels, each stretched to 0..255. Latents shaped (batch, channels, frames,
    h, w) (Wan) or (batch, frames, channels, h, w) (CogVideoX); `channels` tells which axis is
    which. Packed latents (LTX's (batch, tokens, channels)) give None: no cheap picture."""
    import numpy as np

    array = latents.detach().float().cpu().numpy() if hasattr(latents, "detach") else latents
    array = np.asarray(array, dtype=np.float32)
    if array.ndim != 5 or channels < 3:
        return None
    if array.shape[1] == channels:
        frame = array[0, :3, array.shape[2] // 2]
    elif array.shape[2] == channels:
        frame = array[0, array.shape[1] // 2, :3]
    else:
        return None
    low = frame.min(axis=(1, 2), keepdims=True)
    span = np.maximum(frame.max(axis=(1, 2), keepdims=True) - low, 1e-6)
    rgb = ((frame - low) / span * 255.0).astype(np.uint8).transpose(1, 2, 0)
    # Latents are an eighth of the picture's size: scale up so the JPEG is not a smudge.
    return np.ascontiguousarray(rgb.repeat(4, axis=0).repeat(4, axis=1))


class PreviewSender:
    """Stores a render's previews from the render thread, no more often than
    PREVIEW_INTERVAL_S, for the worker to name in its progress events; `close()` deletes them
    once the job is over."""

    def __init__(
        self,
        blobs: Blobs,
        job_id: str,
        loop: asyncio.AbstractEventLoop,
        *,
        interval_s: float | None = None,
    ) -> None:
        self._blobs, self._job_id, self._loop = blobs, job_id, loop
        self._interval_s = PREVIEW_INTERVAL_S if interval_s is None else interval_s
        self._last = float("-inf")
        self._keys: list[str] = []

    def store(self, progress: StageProgress) -> str | None:
        """Called on the render thread: the blob key of this progress's preview when one is
        due, else None. It waits for the write (milliseconds, a few times per render), so the
        event that names it goes out in order with the others."""
        if progress.preview is None:
            return None
        now = time.monotonic()
        if now - self._last < self._interval_s:
            return None
        self._last = now
        putting = self._blobs.put(progress.preview, "jpg")
        try:
            key = asyncio.run_coroutine_threadsafe(putting, self._loop).result(STORE_TIMEOUT_S)
        except Exception:
            # A preview is a courtesy: the render goes on without it.
            log.info("preview dropped", extra={"job_id": self._job_id})
            return None
        self._keys.append(key)
        return key

    async def close(self) -> None:
        for key in self._keys:
            try:
                await self._blobs.delete(key)
            except Exception:
                log.info("preview blob left behind", extra={"job_id": self._job_id})
        self._keys.clear()


def wants_previews(on_progress: object) -> bool:
    """Whether a backend's step callback takes preview frames (the pipeline's does; a plain
    `(step, steps)` function does not), so no preview is made for nobody."""
    return callable(getattr(on_progress, "preview", None))


def offer(on_progress: object, frame: np.ndarray) -> None:
    """Hand a frame of the picture so far to a step callback that takes previews."""
    preview = getattr(on_progress, "preview", None)
    if callable(preview):
        preview(frame)

"""Running the job function in this process: a worker context over an in-process event
channel, the events it published, and a backend slow enough to cancel or lose mid-render."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.backends import load_backend
from engine.channels import InProcessEvents
from engine.context import WorkerContext
from engine.events import JobEvent
from engine.provenance.manifest import ClipSigner
from engine.request import ClipDefaults, EncodedClip, ProgressCallback, Rendered, RenderRequest
from storage.blobs import BlobStore
from storage.db import Database


async def drain(events: InProcessEvents) -> list[JobEvent]:
    return [d.event for d in await events.read(block_ms=0, count=10_000)]


def context(
    db: Database, blobs: BlobStore, backend: object
) -> tuple[WorkerContext, InProcessEvents]:
    events = InProcessEvents()
    return WorkerContext(
        db=db,
        blobs=blobs,
        events=events,
        backend=backend,  # type: ignore[arg-type]
        owns_db=False,
    ), events


def worker(db: Database, blobs: BlobStore, signer: ClipSigner | None) -> WorkerContext:
    """A worker context that renders with the sketch backend and signs with `signer` (or not)."""
    return WorkerContext(
        db=db,
        blobs=blobs,
        events=InProcessEvents(),
        backend=load_backend("sketch"),
        owns_db=False,
        signer=signer,
    )


def no_op_render(request: RenderRequest, on_progress: ProgressCallback) -> EncodedClip:
    """A few bytes for a clip, distinct per job so each clip has its own blob: for runs that
    measure or order the jobs around the render, not the render."""
    return EncodedClip(
        data=f"no-op clip {request.job_id}".encode(),
        width=request.width,
        height=request.height,
        fps=request.fps,
        duration_s=request.duration_s,
        has_audio=False,
        engine="no-op",
    )


@dataclass
class SlowBackend:
    """Draws one frame every `frame_s` seconds, reporting each; `started` is set on the first."""

    frame_s: float = 0.05
    report: bool = True
    name: str = "slow"
    defaults: ClipDefaults = field(
        default_factory=lambda: ClipDefaults(width=64, height=64, fps=8, frames=8)
    )
    started: threading.Event = field(default_factory=threading.Event)
    drawn: int = 0

    def render(self, request: RenderRequest, on_progress: Callable[[int, int], None]) -> Rendered:
        frames = np.zeros((request.frame_count, request.height, request.width, 3), np.uint8)
        for index in range(request.frame_count):
            self.started.set()
            time.sleep(self.frame_s)
            self.drawn += 1
            if self.report:
                on_progress(index + 1, request.frame_count)
        return Rendered(frames)

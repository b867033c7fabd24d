"""What a render worker holds while it runs jobs: storage, the event channel, the loaded
backend and the optional models, opened once per process (`build_context`) and shared by every
job it runs (`engine.jobs.run_job`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.backends import VideoBackend, load_configured_backend
from engine.cameos import FaceModels
from engine.channels import make_events
from engine.config import WorkerConfig
from engine.events import EventSink
from engine.lease import LEASE_S, RENEW_S, worker_name
from engine.moderation.nudity import NudityDetector
from engine.provenance.manifest import ClipSigner, load_signer
from engine.request import EncodedClip, ProgressCallback, RenderRequest
from storage.blob_stores import open_blobs
from storage.blobs import Blobs
from storage.db import Database, connect
from storage.ledger import Ledger

log = logging.getLogger(__name__)

Render = Callable[[RenderRequest, ProgressCallback], EncodedClip]


@dataclass(frozen=True)
class WorkerContext:
    db: Database
    blobs: Blobs
    events: EventSink
    backend: VideoBackend
    # What turns a request into a clip; None is the pipeline over `backend`. The queue benchmark
    # swaps in a no-op here to measure everything around rendering through this very code.
    render: Render | None = None
    # Closed with the context when this context opened it (the worker process), not when the
    # caller lent it (`clipcrew serve` shares the bot's database).
    owns_db: bool = True
    # CLIPCREW_TTS_VOICE: a Piper voice model file for the dialogue; None is espeak-ng.
    voice: str | None = None
    # Face models for cameos and the output check, loaded when first needed.
    faces: FaceModels = field(default_factory=FaceModels)
    # The nudity check's detector; None is NudeNet, loaded on the first clip that needs it.
    nudity: NudityDetector | None = None
    # Signs each stored clip's C2PA manifest (engine.provenance); None: clips go unsigned.
    signer: ClipSigner | None = None
    # Names this worker in the jobs it holds (engine.lease); its leases last `lease_s`.
    worker: str = field(default_factory=worker_name)
    lease_s: float = LEASE_S
    renew_s: float = RENEW_S
    ledger: Ledger = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ledger = Ledger.over(self.db, worker=self.worker, lease_s=self.lease_s)
        object.__setattr__(self, "ledger", ledger)


async def build_context(
    config: WorkerConfig,
    *,
    events: EventSink | None = None,
    db: Database | None = None,
    faces: FaceModels | None = None,
) -> WorkerContext:
    """Open what a worker needs and load the backend once: models stay resident."""
    if events is None:
        events, _ = make_events(config.redis)
    backend = await asyncio.to_thread(load_configured_backend, config)
    log.info(
        "engine ready",
        extra={"engine": backend.name, "defaults": backend.defaults.describe()},
    )
    return WorkerContext(
        db=db or connect(config.database_url),
        blobs=open_blobs(config.blobs),
        events=events,
        backend=backend,
        owns_db=db is None,
        voice=config.voice,
        faces=faces or FaceModels.from_config(config.faces),
        signer=await asyncio.to_thread(load_signer, config.provenance),
    )


async def close_context(ctx: WorkerContext) -> None:
    if ctx.owns_db:
        await ctx.db.close()
    close = getattr(ctx.events, "close", None)
    if close is not None and ctx.owns_db:
        await close()

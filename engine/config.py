"""The engine's own configuration: small frozen dataclasses that `clipcrew/` fills from Settings.

The engine never reads settings itself (DESIGN.md: config flows down), the way arq takes a
`RedisSettings` rather than reading the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storage.blobs import BlobConfig


@dataclass(frozen=True)
class RedisConfig:
    """Where the queues and the event stream live; `url` None means in-process."""

    url: str | None = None
    # Prefixes every key, so several deployments (or tests) can share one Redis server.
    prefix: str = "clipcrew"


@dataclass(frozen=True)
class DiffusionConfig:
    """The diffusers engine's model and how to run it."""

    model: str = ""
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    vae_tiling: bool = False
    audio_model: str | None = None


@dataclass(frozen=True)
class FaceConfig:
    """The face model for cameos and the output check, and the optional face swapper."""

    backend: str = "dlib"
    folder: Path | None = None
    swapper: Path | None = None


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process (render or light) needs to start."""

    database_url: str
    redis: RedisConfig = field(default_factory=RedisConfig)
    blobs: BlobConfig = field(default_factory=BlobConfig)
    engine: str = "sketch"
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    faces: FaceConfig = field(default_factory=FaceConfig)
    # CLIPCREW_TTS_VOICE: a Piper voice model file for dialogue; None is espeak-ng.
    voice: str | None = None
    concurrency: int = 1
    job_timeout_s: int = 600

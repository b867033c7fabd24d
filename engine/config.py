"""The engine's own configuration: small frozen dataclasses that `clipcrew/` fills from Settings.

The engine never reads settings itself (DESIGN.md: config flows down), the way arq takes a
`RedisSettings` rather than reading the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.provenance.config import ProvenanceConfig
from storage.blobs import BlobConfig


@dataclass(frozen=True)
class RedisConfig:
    """Where the queues and the event stream live; `url` None means in-process."""

    url: str | None = None
    # Prefixes every key, so several deployments (or tests) can share one Redis server.
    prefix: str = "clipcrew"


@dataclass(frozen=True)
class DiffusionOptions:
    """The diffusers engine's model and how to run it."""

    # A local folder or a hub id: both go through DiffusionPipeline.from_pretrained.
    model: str = ""
    device: str = "auto"  # auto: CUDA where present, otherwise the CPU
    dtype: str = "auto"  # auto: bfloat16 on CUDA, float32 on the CPU
    cpu_offload: bool = False
    vae_tiling: bool = False
    # A text-to-audio pipeline for ambience under video models that make no sound of their own.
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
    diffusion: DiffusionOptions = field(default_factory=DiffusionOptions)
    faces: FaceConfig = field(default_factory=FaceConfig)
    # CLIPCREW_TTS_VOICE: a Piper voice model file for dialogue; None is espeak-ng.
    voice: str | None = None
    concurrency: int = 1
    job_timeout_s: int = 600
    # Light tasks one light worker runs at once (each is a second or two of CPU).
    light_concurrency: int = 2
    # On SIGTERM a worker finishes its running job for up to this long, then hands it back.
    grace_s: int = 60
    # How clips are signed (C2PA); the default signs nothing.
    provenance: ProvenanceConfig = field(default_factory=ProvenanceConfig)

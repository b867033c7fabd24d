"""What the core needs from the outside, passed explicitly."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.feed_links import FeedLinks
from engine.queue import JobQueue
from storage.blobs import BlobStore
from storage.db import Database


def random_seed() -> int:
    # 31 bits: fits every database's INTEGER and every engine's generator.
    return secrets.randbelow(2**31 - 1)


@dataclass(frozen=True)
class BotConfig:
    command: str = "sora"
    max_prompt_chars: int = 1000
    max_jobs_per_user: int = 2
    engine: str = "sketch"
    width: int = 512
    height: int = 512
    fps: int = 24
    duration_s: float = 5.0
    # A cameo request unanswered this long is cancelled.
    consent_expiry_minutes: int = 30
    # The face model for cameo selfies: "dlib" or "insightface" (with face_models, its folder).
    face_backend: str = "dlib"
    face_models: str | None = None


@dataclass(frozen=True)
class Deps:
    db: Database
    queue: JobQueue
    blobs: BlobStore
    config: BotConfig = BotConfig()
    # Names this process in delivery claims, so a restarted bot can take over its own
    # half-finished posts.
    instance: str = field(default_factory=lambda: secrets.token_hex(8))
    new_seed: Callable[[], int] = random_seed
    # Signs the links to each chat's feed page (clipcrew hands in the kept secret and the
    # public address; without them the links are well formed but no feed server accepts them).
    feed_links: FeedLinks = field(default_factory=FeedLinks.throwaway)

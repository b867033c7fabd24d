"""What the core needs from the outside, passed explicitly."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.commands import MAX_SEED
from bot.feed_links import FeedLinks
from bot.policy import DEFAULT_PER_CHAT_DAILY, DEFAULT_PER_PERSON_DAILY
from engine.queue import JobQueue, LightCalls
from storage.blobs import Blobs
from storage.db import Database


def random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


@dataclass(frozen=True)
class BotConfig:
    command: str = "sora"
    max_prompt_chars: int = 1000
    max_jobs_per_user: int = 2
    engine: str = "sketch"
    # None leaves each to the worker's engine (a model family's own size, rate and length).
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    duration_s: float | None = None
    # A cameo request unanswered this long is cancelled.
    consent_expiry_minutes: int = 30
    # Daily budgets of a chat whose admins set none (bot.policy holds the defaults).
    daily_clips_per_person: int = DEFAULT_PER_PERSON_DAILY
    daily_clips_per_chat: int = DEFAULT_PER_CHAT_DAILY


@dataclass(frozen=True)
class Deps:
    db: Database
    queue: JobQueue
    blobs: Blobs
    # Short CPU work done by a light worker (selfie checks, refits, prompt checks).
    light: LightCalls | None = None
    config: BotConfig = BotConfig()
    # Names this process in delivery claims, so a restarted bot can take over its own
    # half-finished posts.
    instance: str = field(default_factory=lambda: secrets.token_hex(8))
    new_seed: Callable[[], int] = random_seed
    # Signs the links to each chat's feed page (clipcrew hands in the kept secret and the
    # public address; without them the links are well formed but no feed server accepts them).
    feed_links: FeedLinks = field(default_factory=FeedLinks.throwaway)

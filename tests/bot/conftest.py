"""The bot tests' core: `bot` is the core on SQLite with a recording port, queue and light pool
(tests.bot.harness). A module whose tests need another core (a scripted light pool, both
databases) defines its own `bot`."""

from __future__ import annotations

import pytest

from storage.blobs import BlobStore
from storage.db import Database
from tests.bot.harness import Bot, make_bot


@pytest.fixture
def bot(sqlite_db: Database, blobs: BlobStore) -> Bot:
    return make_bot(sqlite_db, blobs)

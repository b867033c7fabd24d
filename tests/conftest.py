"""Shared fixtures: real databases (SQLite file, PostgreSQL schema), a real Redis, blob folder."""

from __future__ import annotations

import os

# No test may reach a model hub: the engine loads tiny models from folders the tests build.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from engine.faces.dlib_backend import DlibAnalyzer
from storage.blobs import BlobStore
from storage.db import Database, connect
from storage.migrate import upgrade

if TYPE_CHECKING:
    from engine.light import ArqLight
    from tests.processes import Shape

POSTGRES_URL = os.environ.get(
    "CLIPCREW_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CLIPCREW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# s3_endpoint / s3_config: a real S3-compatible server (moto) on loopback, started when needed.
pytest_plugins = ["tests.s3_server"]


async def sqlite_database(folder: Path) -> Database:
    database = connect(f"sqlite+aiosqlite:///{folder / 'clipcrew.db'}")
    await upgrade(database)
    return database


async def postgres_database(schema: str) -> tuple[Database, Database]:
    """A migrated database living in its own fresh schema; returns (database, admin)."""
    admin = connect(POSTGRES_URL)
    async with admin.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = connect(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    await upgrade(database)
    return database, admin


async def drop_schema(admin: Database, schema: str) -> None:
    async with admin.engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await sqlite_database(tmp_path)
    yield database
    await database.close()


@pytest.fixture
async def postgres_db() -> AsyncIterator[Database]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    database, admin = await postgres_database(schema)
    yield database
    await database.close()
    await drop_schema(admin, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = await sqlite_database(tmp_path)
        yield database
        await database.close()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    database, admin = await postgres_database(schema)
    yield database
    await database.close()
    await drop_schema(admin, schema)


@pytest.fixture(scope="session")
def analyzer() -> DlibAnalyzer:
    """The real dlib face model (the embedded default), loaded once for the whole run: loading
    reads about 100 MB of weights. Tests of another backend override this fixture."""
    return DlibAnalyzer.load()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of its own for each test, so tests can share one Redis server."""
    return f"clipcrew-test-{uuid.uuid4().hex[:10]}"


async def delete_keys(client: Redis, prefix: str) -> None:
    # arq's own keys carry our prefix inside the job id: arq:job:<prefix>:<id>, ...
    for pattern in (f"{prefix}*", f"arq:*:{prefix}:*"):
        keys = [key async for key in client.scan_iter(match=pattern)]
        if keys:
            await client.delete(*keys)


@pytest.fixture
async def shape(tmp_path: Path, redis_prefix: str) -> AsyncIterator[Shape]:
    """clipcrew as real processes (tests.processes): a database of their own, this test's
    Redis prefix and a Telegram emulator; the test starts the processes it needs."""
    from tests.adapters.telegram.emulator import BotApi
    from tests.processes import Shape, base_env, drop_database, new_database, wipe_redis

    api = BotApi()
    await api.start()
    database = await new_database()
    made = Shape(api, base_env(api, tmp_path, database, REDIS_URL, redis_prefix), tmp_path)
    try:
        yield made
    finally:
        await made.stop_all()
        await api.close()
        await drop_database(database)
        await wipe_redis(REDIS_URL, redis_prefix)


@pytest.fixture
async def arq_light(tmp_path: Path, redis_prefix: str) -> AsyncIterator[ArqLight]:
    """A real light worker (arq, on Redis, with this test's prefix) and a client for it."""
    import asyncio

    from arq.worker import create_worker

    from clipcrew.config import worker_config
    from engine.light import ArqLight
    from engine.worker import light_worker_settings
    from tests.factories import small_settings

    settings = small_settings(tmp_path, REDIS_URL=REDIS_URL, CLIPCREW_REDIS_PREFIX=redis_prefix)
    worker = create_worker(light_worker_settings(worker_config(settings)), handle_signals=False)
    running = asyncio.create_task(worker.main())
    light = ArqLight.from_url(REDIS_URL, prefix=redis_prefix)
    try:
        yield light
    finally:
        await light.close()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()
        client = Redis.from_url(REDIS_URL)
        await delete_keys(client, redis_prefix)
        await client.aclose()

"""Fixtures: the Bot API emulator, the adapter alone (a recording core), and clipcrew's real
services, each started against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import start_telegram
from clipcrew.app import Services, start_services, stop_services
from clipcrew.config import telegram_config
from clipcrew.settings import Settings
from storage.blobs import BlobStore
from tests.adapters.telegram.emulator import TOKEN, BotApi
from tests.adapters.telegram.fakes import RecordingCore
from tests.factories import small_settings

Start = Callable[..., Awaitable[Services]]


@pytest.fixture
async def api() -> AsyncIterator[BotApi]:
    emulator = BotApi()
    await emulator.start()
    yield emulator
    await emulator.close()


def telegram_settings(tmp_path: Path, api: BotApi, **env: Any) -> Settings:
    values: dict[str, Any] = dict(
        TELEGRAM_TOKEN=TOKEN,
        TELEGRAM_API_BASE=api.api_base,
        TELEGRAM_FILE_API_BASE=api.file_base,
    )
    return small_settings(tmp_path, **(values | env))


async def serve(api: BotApi, tmp_path: Path, **env: object) -> Services:
    """`clipcrew serve` with Telegram on against the emulator, the local chat off."""
    return await start_services(telegram_settings(tmp_path, api, **env), local_chat=False)


async def stop_bot(api: BotApi, services: Services) -> None:
    # The parked getUpdates is let go first, or stopping waits out its long-poll timeout.
    await api.drain(True)
    try:
        await stop_services(services)
    finally:
        await api.drain(False)


@pytest.fixture
async def core(api: BotApi, tmp_path: Path) -> AsyncIterator[RecordingCore]:
    """The Telegram adapter alone, started against the emulator around a recording core."""
    recording = RecordingCore()
    stop = await start_telegram(
        recording, BlobStore(tmp_path), telegram_config(telegram_settings(tmp_path, api))
    )
    yield recording
    await api.drain(True)
    await stop()


@pytest.fixture
async def bot(
    api: BotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    """`clipcrew serve` with Telegram on: real core, in-process queue, sketch engine."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    services = await serve(api, tmp_path)
    yield services
    await stop_bot(api, services)

"""Fixtures: a recording core for the adapter's test server, and `clipcrew serve` itself (the
real core, queue and sketch engine) with an HTTP session on its local chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from clipcrew.app import Services, start_services, stop_services
from tests.adapters.local.fakes import RecordingCore
from tests.factories import small_settings


@pytest.fixture
def core() -> RecordingCore:
    return RecordingCore()


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = small_settings(tmp_path, CLIPCREW_CLIP_FPS=8)
    running = await start_services(settings)
    yield running
    await stop_services(running)


@pytest.fixture
async def http(services: Services) -> AsyncIterator[aiohttp.ClientSession]:
    assert services.local_chat_url is not None
    async with aiohttp.ClientSession(base_url=services.local_chat_url) as session:
        yield session

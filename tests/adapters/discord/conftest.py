"""The real services with the Discord adapter, pointed at the emulator; or the adapter alone
in front of a recording core (`adapter`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord import DiscordPort, start_discord
from clipcrew.app import Services, start_services, stop_services
from clipcrew.config import discord_config
from clipcrew.settings import Settings
from storage.blobs import BlobStore
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.fakes import CameoCore
from tests.factories import small_settings

TOKEN = "emulated.discord.token-that-must-not-be-logged"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator()
    await emu.start()
    yield emu
    await emu.stop()


def discord_settings(tmp_path: Path, emu: Emulator, **env: object) -> Settings:
    values: dict[str, object] = dict(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=emu.api_base,
        DISCORD_GATEWAY_URL=emu.gateway_url,
    )
    return small_settings(tmp_path, **(values | env))


@pytest.fixture
def discord_env() -> dict[str, object]:
    """Extra settings; a test overrides it with `@pytest.mark.parametrize("discord_env", ...)`."""
    return {}


@pytest.fixture
async def services(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    discord_env: dict[str, object],
) -> AsyncIterator[Services]:
    # discord.py keeps its endpoints on classes; put them back for whatever runs next.
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    running = await start_services(
        discord_settings(tmp_path, emulator, **discord_env), local_chat=False
    )
    yield running
    await stop_services(running)


@pytest.fixture
def cameo_core() -> CameoCore:
    return CameoCore()


@pytest.fixture
async def adapter(
    emulator: Emulator,
    cameo_core: CameoCore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[DiscordPort]:
    """The Discord adapter alone, in front of `cameo_core`; yields its port."""
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    settings = discord_settings(tmp_path, emulator)
    stop = await start_discord(cameo_core, BlobStore(tmp_path / "blobs"), discord_config(settings))
    assert isinstance(cameo_core.port, DiscordPort)
    yield cameo_core.port
    await stop()

"""Starting and stopping the Discord client beside the core."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.actions import Actions, Core
from adapters.discord.client import ClipcrewClient
from adapters.discord.commands import build_commands
from adapters.discord.port import DiscordPort
from clipcrew.settings import Settings
from storage.blobs import BlobStore

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0


class DiscordStartFailed(RuntimeError):
    """The client could not log in or reach the gateway; the message says why (never the token)."""


def guild_ids(value: str) -> list[int]:
    try:
        return [int(part) for part in value.replace(" ", "").split(",") if part]
    except ValueError:
        raise ValueError(
            f"DISCORD_GUILD_IDS must be comma-separated numbers, not {value!r}"
        ) from None


def point_at(api_base: str, gateway_url: str | None) -> None:
    """discord.py keeps its endpoints as class attributes: one Discord per process."""
    Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def start_discord(
    core: Core, blobs: BlobStore, settings: Settings
) -> Callable[[], Awaitable[None]]:
    """Log in, sync the commands, connect to the gateway and attach the port to `core`.
    Returns the function that stops it all."""
    assert settings.discord_token is not None
    point_at(settings.discord_api_base, settings.discord_gateway_url)
    client = ClipcrewClient(guild_ids=guild_ids(settings.discord_guild_ids))
    port = DiscordPort(client, settings.secret_bytes())
    actions = Actions(core, port, secret=port.secret, command=settings.command)
    client.presses = actions
    for command in build_commands(actions, command=settings.command):
        client.tree.add_command(command)
    core.attach(port)
    try:
        await client.login(settings.discord_token.get_secret_value())
    except BaseException as error:
        await client.close()  # its HTTP session is open once login began
        if isinstance(error, discord.LoginFailure):
            raise DiscordStartFailed(
                "Discord refused DISCORD_TOKEN (check it in the portal)"
            ) from None
        raise
    connection = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
    await _until_ready(client, connection)
    log.info("discord: ready", extra={"user": str(client.user)})

    async def stop() -> None:
        await client.close()
        connection.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connection

    return stop


async def _until_ready(client: ClipcrewClient, connection: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait(
        {ready, connection}, timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
    )
    if ready in done:
        return
    ready.cancel()
    await client.close()
    if connection in done and connection.exception() is not None:
        raise DiscordStartFailed(f"the Discord gateway failed: {connection.exception()}") from None
    connection.cancel()
    raise DiscordStartFailed("the Discord gateway did not become ready in time")

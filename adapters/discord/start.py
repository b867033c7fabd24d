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

from adapters.discord.actions import Actions
from adapters.discord.client import ClipcrewClient
from adapters.discord.commands import build_commands
from adapters.discord.config import DiscordConfig
from adapters.discord.port import DiscordPort
from adapters.discord.reactions import watch_reactions
from bot.ports import CorePort
from storage.blobs import Blobs

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0


class DiscordStartFailed(RuntimeError):
    """The client could not log in or reach the gateway; the message says why (never the token)."""


def point_at(api_base: str, gateway_url: str | None) -> None:
    """discord.py keeps its endpoints as class attributes: one Discord per process."""
    Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def start_discord(
    core: CorePort, blobs: Blobs, config: DiscordConfig
) -> Callable[[], Awaitable[None]]:
    """Log in, sync the commands, connect to the gateway and attach the port to `core`.
    Returns the function that stops it all."""
    point_at(config.api_base, config.gateway_url)
    client = ClipcrewClient(guild_ids=list(config.guild_ids))
    port = DiscordPort(client, config.secret)
    actions = Actions(core, port, secret=port.secret)
    client.presses = actions
    for command in build_commands(actions, command=config.command):
        client.tree.add_command(command)
    core.attach(port)
    watch_reactions(client, core)
    try:
        await client.login(config.token)
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

"""The discord.py client: a plain `Client` with an app-command tree, and no privileged intents
(slash commands, buttons and modals arrive as interactions; no message content is read)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from adapters.discord.metrics import api_trace
from adapters.discord.views import Presses, SignedButton, tell_privately
from bot.errors import SOMETHING_WRONG

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    # Guilds: enough to know the channels interactions come from. Reactions (not privileged):
    # the feed counts them on the clips.
    return discord.Intents(guilds=True, reactions=True)


class ClipcrewClient(discord.Client):
    def __init__(self, *, guild_ids: list[int]) -> None:
        # guild_ready_timeout=0: the client waits for no guild streaming before it is ready.
        # http_trace: every REST answer is counted for the metrics (errors, 429s).
        super().__init__(intents=intents(), guild_ready_timeout=0, http_trace=api_trace())
        self.tree = app_commands.CommandTree(self)
        self.tree.error(self._on_command_error)
        self.guild_ids = guild_ids
        # Set by start_discord before login; the buttons and the modal call into it.
        self.presses: Presses | None = None

    async def setup_hook(self) -> None:
        self.add_dynamic_items(SignedButton)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """To the listed guilds (instant, for development), else globally (Discord may take a
        while to show new global commands)."""
        if not self.guild_ids:
            synced = await self.tree.sync()
            log.info("discord: commands synced globally", extra={"count": len(synced)})
            return
        for guild_id in self.guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("discord: commands synced", extra={"guild": guild_id, "count": len(synced)})

    async def _on_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("discord: a command failed", exc_info=error)
        await tell_privately(interaction, SOMETHING_WRONG)

    async def on_error(self, event_method: str, /, *args: object, **kwargs: object) -> None:
        log.exception("discord: an event handler failed", extra={"event": event_method})

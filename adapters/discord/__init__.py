"""The Discord adapter: slash commands, buttons, a context menu and modals through discord.py.
`start_discord` is what `clipcrew serve` and `clipcrew bot` call when DISCORD_TOKEN is set."""

from adapters.discord.client import ClipcrewClient
from adapters.discord.port import DiscordPort
from adapters.discord.start import start_discord

__all__ = ["ClipcrewClient", "DiscordPort", "start_discord"]

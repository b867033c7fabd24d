"""`/admin` on Discord: for members with Manage Server. The command is synced with
`default_permissions(manage_guild=True)`, so Discord hides it from everyone else; a server may
grant it to other roles in its integration settings, so the member's resolved permissions are
checked again on every use. Answers are ephemeral: only the admin sees them."""

from __future__ import annotations

from dataclasses import replace

import discord

from adapters.discord.port import PLATFORM, DiscordPort
from bot.admin_commands import AdminCommand
from bot.ports import CorePort
from bot.types import ChatUser


def is_admin(interaction: discord.Interaction) -> bool:
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def adult_place(interaction: discord.Interaction) -> bool:
    """Discord marks age-restricted channels (`nsfw`); only there may a chat be adult."""
    channel = interaction.channel
    return bool(getattr(channel, "nsfw", False))


def person_of(user: discord.User | discord.Member) -> ChatUser:
    return ChatUser(PLATFORM, str(user.id), user.display_name, user.name)


async def admin(
    core: CorePort,
    port: DiscordPort,
    interaction: discord.Interaction,
    command: AdminCommand,
    person: discord.User | discord.Member | None,
) -> None:
    """`/admin action:<what> [person:@someone]`: `command` holds the action as typed (its
    `<@id>` mentions already read as people); the person option is the one named when given."""
    request = await port.begin(interaction, command.chat, ephemeral=True)
    args, mentions = command.args, command.mentions
    if person is not None:
        mentions = (person_of(person), *mentions)
        if len(args.split()) < 2:  # "ban" with the person picked in the option
            args = f"{args} @{person.name}"
    await core.handle(
        replace(
            command,
            args=args,
            mentions=mentions,
            is_admin=is_admin(interaction),
            adult_place=adult_place(interaction),
            answered_privately=True,
            message=request,
        )
    )

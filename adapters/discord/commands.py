"""The slash commands and the "Remix clip" context menu. The function signature is the command:
Discord shows the typed parameters, `describe` texts and docstrings to the person typing."""

from __future__ import annotations

from typing import Any

from discord import Attachment, Interaction, Member, Message, User, app_commands

from adapters.discord.actions import Actions
from bot.commands import MAX_SEED

Built = app_commands.Command[Any, ..., None] | app_commands.ContextMenu


def build_commands(actions: Actions, *, command: str) -> list[Built]:
    """Every command the bot syncs; `command` names the one that makes a clip."""
    return [
        generate_command(actions, name=command),
        help_command(actions),
        cameo_command(actions),
        feed_command(actions),
        remix_command(actions),
        admin_command(actions),
        queue_command(actions),
        remix_menu(actions),
        *verify_commands(actions),
    ]


def generate_command(actions: Actions, *, name: str) -> Built:
    @app_commands.command(name=name)
    @app_commands.describe(
        prompt='What should happen. Put dialogue in quotes: a cat DJ says "drop the beat"',
        seed="Same prompt and seed, same clip (optional)",
        cameo="Put someone's cameo in the clip (they may have to approve)",
    )
    async def generate(
        interaction: Interaction,
        prompt: str,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        cameo: str | None = None,
    ) -> None:
        """Make a short video with sound from a prompt."""
        await actions.generate(interaction, prompt, seed, cameo)

    @generate.autocomplete("cameo")
    async def cameo_choices(
        interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await actions.cameo_choices(current)

    return generate


def help_command(actions: Actions) -> Built:
    @app_commands.command(name="help")
    async def help_(interaction: Interaction) -> None:
        """How to make and remix clips."""
        await actions.help(interaction)

    return help_


def cameo_command(actions: Actions) -> Built:
    @app_commands.command(name="cameo")
    # Cameo business is private: /cameo works in the bot's DM too (for globally synced
    # commands; commands synced to DISCORD_GUILD_IDS exist in those servers only).
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.describe(
        # Discord cuts option descriptions at 100 characters.
        action="Empty: enroll, or your settings. Or: audience everyone, prefs …, clips, "
        "delete 12, revoke @bob",
        video="Your selfie video: say the code I sent you, turn your head left then right",
    )
    async def cameo(
        interaction: Interaction, action: str | None = None, video: Attachment | None = None
    ) -> None:
        """Put yourself in clips: enroll with a selfie video, then choose who may use it."""
        await actions.cameo(interaction, action, video)

    return cameo


def feed_command(actions: Actions) -> Built:
    @app_commands.command(name="feed")
    @app_commands.describe(
        show="Empty: this week's hot clips. Or: new, top, @someone, or #12 for a clip's remixes"
    )
    async def feed(interaction: Interaction, show: str | None = None) -> None:
        """This channel's clips, ranked by reactions and remixes, with a link to its feed page."""
        await actions.feed(interaction, show or "")

    return feed


def remix_command(actions: Actions) -> Built:
    @app_commands.command(name="remix")
    @app_commands.describe(clip="The clip's number (#12 in /feed)", change="What should change")
    async def remix(
        interaction: Interaction, clip: app_commands.Range[int, 1, MAX_SEED], change: str
    ) -> None:
        """Remix a clip of this channel by its number."""
        await actions.remix_number(interaction, clip, change)

    return remix


def admin_command(actions: Actions) -> Built:
    @app_commands.command(name="admin")
    @app_commands.guild_only()
    # Hidden from members without Manage Server (a server can grant it to roles); the adapter
    # checks the member's permissions again on every use.
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        action="policy strict|standard|adult, ban, unban, limit <person> <chat>, queue, purge, log",
        person="Who to ban, unban or purge",
    )
    async def admin_(
        interaction: Interaction,
        action: str | None = None,
        person: User | Member | None = None,
    ) -> None:
        """Chat admins: policy, bans, daily limits, the queue, purging clips, the log."""
        await actions.admin(interaction, action, person)

    return admin_


def queue_command(actions: Actions) -> Built:
    @app_commands.command(name="queue")
    async def queue(interaction: Interaction) -> None:
        """What waits in this channel, in the order it starts, and roughly when each is done."""
        await actions.queue(interaction)

    return queue


def remix_menu(actions: Actions) -> Built:
    @app_commands.context_menu(name="Remix clip")
    async def remix_clip(interaction: Interaction, message: Message) -> None:
        await actions.remix_from_message(interaction, message)

    return remix_clip


def verify_commands(actions: Actions) -> list[Built]:
    """/verify with a video, and "Verify" on a message with one: where did it come from?"""

    @app_commands.command(name="verify")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.describe(video="Any video: I say which of my clips it is, if I made it")
    async def verify_(interaction: Interaction, video: Attachment) -> None:
        """Where did this video come from? Its C2PA manifest, else its fingerprint."""
        await actions.verify(interaction, video)

    @app_commands.context_menu(name="Verify")
    async def verify_menu(interaction: Interaction, message: Message) -> None:
        await actions.verify_message(interaction, message)

    return [verify_, verify_menu]

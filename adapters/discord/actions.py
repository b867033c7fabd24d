"""What each interaction does: parse it, build the core's command, `await core.handle(...)`.
The port renders whatever the core answers; only the answers to button presses come back here
(they are shown to the presser alone, or in place of the pressed message)."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands

from adapters.discord import admin
from adapters.discord.port import PLATFORM, DiscordPort
from adapters.discord.views import RemixModal, note_view, signed_payloads
from bot.admin_commands import AdminCommand
from bot.callbacks import CONSENT_ACTIONS, BadButton, Button, command_for, sign, verify
from bot.commands import (
    CameoCommand,
    Command,
    Generate,
    Help,
    Remix,
    Reroll,
    SelfieUpload,
    VerifyUpload,
)
from bot.feed_commands import FeedPage, RemixByNumber, ShowFeed, ToggleLike
from bot.ports import CameoSuggestion, CorePort
from bot.queue_commands import ShowQueue
from bot.types import ChatRef, ChatUser, MessageRef

log = logging.getLogger(__name__)

NOT_A_CLIP = "That isn't one of my clips. Use “Remix clip” on a clip I posted."
NO_VIDEO = "That message has no video to check. Use “Verify” on a message with a video in it."
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".mkv")
# When the core answered a /cameo only by direct message, the private "thinking…" says so.
ANSWERED_BY_DM = "📬 I answered in a direct message."
PICK_A_CAMEO = (
    "Pick the cameo from the list that shows up as you type in `cameo` (only people who made "
    "a cameo are listed)."
)
# Discord shows at most 25 autocomplete choices, each named in at most 100 characters.
MAX_CHOICES = 25
CHOICE_NAME_MAX = 100
# Presses the core answers with a verdict for the presser alone.
VERDICTS = CONSENT_ACTIONS | {"delete", "cancel"}


def chat_of(interaction: discord.Interaction) -> ChatRef:
    channel = interaction.channel
    title = getattr(channel, "name", None) or ""
    return ChatRef(platform=PLATFORM, chat_id=str(interaction.channel_id), title=title)


def user_of(interaction: discord.Interaction) -> ChatUser:
    user = interaction.user
    return ChatUser(
        platform=PLATFORM, user_id=str(user.id), display_name=user.display_name, username=user.name
    )


_USER_MENTION = re.compile(r"<@!?(\d{5,20})>")


async def user_mentions(prompt: str, client: discord.Client) -> tuple[str, tuple[ChatUser, ...]]:
    """A prompt's `<@id>` mentions (what Discord puts in the text when someone picks a person
    while typing) as people, and the prompt with each one read as @username. Names come from
    the cache or, without the members intent, from one user lookup each."""
    found: dict[str, ChatUser] = {}
    for user_id in dict.fromkeys(_USER_MENTION.findall(prompt)):
        user = client.get_user(int(user_id))
        if user is None:
            try:
                user = await client.fetch_user(int(user_id))
            except discord.HTTPException:
                continue  # not a user Discord knows: left as typed
        found[user_id] = ChatUser(PLATFORM, user_id, user.display_name, user.name)

    def named(match: re.Match[str]) -> str:
        person = found.get(match[1])
        return f"@{person.username}" if person is not None else match[0]

    return _USER_MENTION.sub(named, prompt), tuple(found.values())


class Actions:
    def __init__(self, core: CorePort, port: DiscordPort, *, secret: bytes) -> None:
        self.core = core
        self.port = port
        self.secret = secret

    # Slash and context-menu commands --------------------------------------------------------

    async def generate(
        self,
        interaction: discord.Interaction,
        prompt: str,
        seed: int | None,
        cameo: str | None = None,
    ) -> None:
        """`cameo` is what the autocomplete chose: the cameo owner's user id."""
        if cameo is not None and not cameo.isdigit():
            # Typed, not picked: a name the core would not find by user id.
            await interaction.response.send_message(PICK_A_CAMEO, ephemeral=True)
            return
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat)
        prompt, typed = await user_mentions(prompt, interaction.client)
        picked = (ChatUser(platform=PLATFORM, user_id=cameo, display_name=cameo),) if cameo else ()
        mentions = picked + tuple(user for user in typed if user.user_id != cameo)
        await self.core.handle(
            Generate(
                prompt=prompt,
                author=user_of(interaction),
                chat=chat,
                message=request,
                mentions=mentions,
                seed=seed,
            )
        )

    async def cameo_choices(self, typed: str) -> list[app_commands.Choice[str]]:
        """The /sora `cameo` option's autocomplete: the cameos the core suggests."""
        suggest = getattr(self.core, "suggest_cameos", None)
        if suggest is None:  # a core without cameos
            return []
        suggestions: list[CameoSuggestion] = await suggest(platform=PLATFORM, typed=typed)
        return [
            app_commands.Choice(name=s.label[:CHOICE_NAME_MAX], value=s.user_id)
            for s in suggestions[:MAX_CHOICES]
        ]

    async def cameo(
        self,
        interaction: discord.Interaction,
        action: str | None,
        video: discord.Attachment | None,
    ) -> None:
        """`/cameo`: a `video` is the selfie clip of an enrollment; otherwise `action` is the
        owner's control (nothing: start enrolling). The core answers by direct message."""
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat, ephemeral=True)
        author = user_of(interaction)
        command: Command
        if video is not None:
            # The core checks the stated size before it downloads anything.
            command = SelfieUpload(
                author=author, chat=chat, fetch=video.read, size_bytes=video.size, message=request
            )
        else:
            command = CameoCommand(args=action or "", author=author, chat=chat, message=request)
        await self.core.handle(command)
        await self.port.settle(request, ANSWERED_BY_DM)

    async def admin(
        self,
        interaction: discord.Interaction,
        action: str | None,
        person: discord.User | discord.Member | None,
    ) -> None:
        """`/admin`: see adapters.discord.admin (who counts as an admin, ephemeral answers)."""
        args, typed = await user_mentions(action or "", interaction.client)
        command = AdminCommand(args, user_of(interaction), chat_of(interaction), mentions=typed)
        await admin.admin(self.core, self.port, interaction, command, person)

    async def help(self, interaction: discord.Interaction) -> None:
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat, ephemeral=True)
        await self.core.handle(Help(author=user_of(interaction), chat=chat, message=request))

    async def queue(self, interaction: discord.Interaction) -> None:
        """`/queue`: answered in the channel, for anyone."""
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat)
        await self.core.handle(ShowQueue(author=user_of(interaction), chat=chat, message=request))

    async def feed(self, interaction: discord.Interaction, show: str) -> None:
        """`/feed [show]`: answered in the channel, with paging buttons."""
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat)
        show, _ = await user_mentions(show, interaction.client)
        await self.core.handle(
            ShowFeed(args=show, author=user_of(interaction), chat=chat, message=request)
        )

    async def remix_number(self, interaction: discord.Interaction, clip: int, change: str) -> None:
        """`/remix clip:12 change:make it rain`."""
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat)
        await self.core.handle(
            RemixByNumber(
                args=f"{clip} {change}", author=user_of(interaction), chat=chat, message=request
            )
        )

    async def verify(self, interaction: discord.Interaction, video: discord.Attachment) -> None:
        """`/verify video:` and the "Verify" menu: where did this video come from? Answered
        privately; the core checks the stated size before it downloads anything."""
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat, ephemeral=True)
        command = VerifyUpload(
            author=user_of(interaction),
            chat=chat,
            fetch=video.read,
            size_bytes=video.size,
            message=request,
        )
        await self.core.handle(command)

    async def verify_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Verify" context menu: the message's first video."""
        for attachment in message.attachments:
            kind = attachment.content_type or ""
            if kind.startswith("video/") or attachment.filename.lower().endswith(VIDEO_SUFFIXES):
                await self.verify(interaction, attachment)
                return
        await interaction.response.send_message(NO_VIDEO, ephemeral=True)

    async def remix_from_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Remix clip" context menu: the target's own buttons say which clip it is."""
        chat_id = str(interaction.channel_id)
        for payload in signed_payloads(message):
            try:
                button = verify(payload, chat_id=chat_id, secret=self.secret)
            except BadButton:
                continue
            await self._open_remix(interaction, button.clip_id)
            return
        await interaction.response.send_message(NOT_A_CLIP, ephemeral=True)

    # Buttons and the modal ------------------------------------------------------------------

    async def on_button(self, interaction: discord.Interaction, payload: str) -> None:
        button = await self._verified(interaction, payload)
        if button is None:
            return
        chat = chat_of(interaction)
        command = command_for(
            button,
            author=user_of(interaction),
            chat=chat,
            message=await self._acknowledge(interaction, button, chat),
            is_admin=admin.is_admin(interaction),
        )
        if command is None:  # Remix: the change comes from a modal (see on_remix_submit)
            await self._open_remix(interaction, button.clip_id)
        elif isinstance(command, FeedPage):
            await self._turn_page(interaction, command)
        else:
            await self._answer(interaction, command)

    async def _acknowledge(
        self, interaction: discord.Interaction, button: Button, chat: ChatRef
    ) -> MessageRef | None:
        """Acknowledge a press that may take the core a while, within Discord's 3 s, and return
        the message the core should know it by. A Reroll's clip answers the "thinking…" that
        `begin` posts; a verdict (a consent answer, Delete, Cancel) is for the presser alone,
        and only a consent answer names the pressed message (the core edits the request)."""
        if button.action == "reroll":
            return await self.port.begin(interaction, chat)
        if button.action not in VERDICTS:
            return None  # Remix, a feed page and ❤️ are answered at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        pressed = interaction.message
        if button.is_consent and pressed is not None:
            return MessageRef(chat, str(pressed.id))
        return None

    async def _answer(self, interaction: discord.Interaction, command: Command) -> None:
        """Hand a press to the core; the presser alone sees its answer (the ❤️ toggle's, or a
        verdict in place of its "thinking…"). A Reroll's clip arrives in the channel."""
        answer = await self.core.handle(command)
        if isinstance(command, ToggleLike):
            await interaction.response.send_message(answer.text, ephemeral=True)
        elif not isinstance(command, Reroll):
            await interaction.edit_original_response(content=answer.text)

    async def on_remix_submit(
        self, interaction: discord.Interaction, payload: str, prompt: str
    ) -> None:
        button = await self._verified(interaction, payload)
        if button is None:
            return
        chat = chat_of(interaction)
        request = await self.port.begin(interaction, chat)
        await self.core.handle(
            Remix(
                prompt=prompt,
                author=user_of(interaction),
                chat=chat,
                parent_clip_id=button.clip_id,
                message=request,
            )
        )

    async def _turn_page(self, interaction: discord.Interaction, page: FeedPage) -> None:
        """A /feed paging button: the page is shown in place of the pressed message."""
        note = await self.core.handle(page)
        chat_id = page.chat.chat_id
        view = note_view(note, chat_id=chat_id, secret=self.secret) if note.choices else None
        await interaction.response.edit_message(content=note.text, view=view)

    async def _open_remix(self, interaction: discord.Interaction, clip_id: int) -> None:
        payload = sign(
            Button("remix", clip_id), chat_id=str(interaction.channel_id), secret=self.secret
        )
        await interaction.response.send_modal(RemixModal(payload))

    async def _verified(self, interaction: discord.Interaction, payload: str) -> Button | None:
        try:
            return verify(payload, chat_id=str(interaction.channel_id), secret=self.secret)
        except BadButton as error:
            await interaction.response.send_message(str(error), ephemeral=True)
            return None

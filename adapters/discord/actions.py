"""What each interaction does: parse it, build the core's command, `await core.handle(...)`.
The port renders whatever the core answers; only the answers to Delete and to the consent
buttons come back here (they are shown to the presser alone)."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands

from adapters.discord import admin
from adapters.discord.port import PLATFORM, DiscordPort
from adapters.discord.views import RemixModal, note_view, signed_payloads
from bot.admin import job_id_of
from bot.admin_commands import AdminCommand, CancelJob
from bot.callbacks import BadButton, Button, sign, verify
from bot.commands import (
    AnswerConsent,
    CameoCommand,
    Command,
    DeleteClip,
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
COMING_SOON = "{what} are coming soon. For now: /{command} <what should happen>."
# When the core answered a /cameo only by direct message, the private "thinking…" says so.
ANSWERED_BY_DM = "📬 I answered in a direct message."
PICK_A_CAMEO = (
    "Pick the cameo from the list that shows up as you type in `cameo` (only people who made "
    "a cameo are listed)."
)
# Discord shows at most 25 autocomplete choices, each named in at most 100 characters.
MAX_CHOICES = 25
CHOICE_NAME_MAX = 100


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
    def __init__(self, core: CorePort, port: DiscordPort, *, secret: bytes, command: str) -> None:
        self.core = core
        self.port = port
        self.secret = secret
        self.command = command

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

    async def coming_soon(self, interaction: discord.Interaction, what: str) -> None:
        text = COMING_SOON.format(what=what, command=self.command)
        await interaction.response.send_message(text, ephemeral=True)

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
        if button.is_consent:
            await self._answer_consent(interaction, button)
        elif button.action == "cancel":
            pressed = CancelJob(
                job_id_of(button),
                user_of(interaction),
                chat_of(interaction),
                is_admin=admin.is_admin(interaction),
            )
            await admin.cancel(self.core, interaction, pressed)
        elif button.action == "remix":
            await self._open_remix(interaction, button.clip_id)
        elif button.action == "reroll":
            chat = chat_of(interaction)
            request = await self.port.begin(interaction, chat)
            await self.core.handle(
                Reroll(
                    author=user_of(interaction),
                    chat=chat,
                    parent_clip_id=button.clip_id,
                    message=request,
                )
            )
        elif button.action == "feed":
            await self._turn_page(interaction, button.target_id)
        elif button.action == "like":
            liked = await self.core.handle(
                ToggleLike(user_of(interaction), chat_of(interaction), button.clip_id)
            )
            await interaction.response.send_message(liked.text, ephemeral=True)
        else:
            await self._delete(interaction, button.clip_id)

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

    async def _turn_page(self, interaction: discord.Interaction, cursor: int) -> None:
        """A /feed paging button: the page is shown in place of the pressed message."""
        chat = chat_of(interaction)
        note = await self.core.handle(FeedPage(cursor, user_of(interaction), chat))
        view = note_view(note, chat_id=chat.chat_id, secret=self.secret) if note.choices else None
        await interaction.response.edit_message(content=note.text, view=view)

    async def _open_remix(self, interaction: discord.Interaction, clip_id: int) -> None:
        payload = sign(
            Button("remix", clip_id), chat_id=str(interaction.channel_id), secret=self.secret
        )
        await interaction.response.send_modal(RemixModal(payload))

    async def _delete(self, interaction: discord.Interaction, clip_id: int) -> None:
        # Deleting touches storage and every message showing the clip: acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer = await self.core.handle(
            DeleteClip(author=user_of(interaction), chat=chat_of(interaction), clip_id=clip_id)
        )
        await interaction.edit_original_response(content=answer.text)

    async def _answer_consent(self, interaction: discord.Interaction, button: Button) -> None:
        """Approve once / Always allow / Deny under a consent request. The core checks that the
        presser owns the cameo, edits the request and tells the requester; the presser sees
        its answer privately."""
        assert button.action in ("approve", "always", "deny")
        await interaction.response.defer(ephemeral=True, thinking=True)
        chat = chat_of(interaction)
        pressed = interaction.message
        answer = await self.core.handle(
            AnswerConsent(
                approval_id=button.target_id,
                answer=button.action,
                author=user_of(interaction),
                chat=chat,
                message=MessageRef(chat, str(pressed.id)) if pressed is not None else None,
            )
        )
        await interaction.edit_original_response(content=answer.text)

    async def _verified(self, interaction: discord.Interaction, payload: str) -> Button | None:
        try:
            return verify(payload, chat_id=str(interaction.channel_id), secret=self.secret)
        except BadButton as error:
            await interaction.response.send_message(str(error), ephemeral=True)
            return None

"""The core's way into Discord: `bot.ports.ChatPort` for platform "discord".

A command arrives as an interaction, acknowledged at once with a deferred "thinking" response.
That response *is* the status message: the Queued notice and the progress bar are edits of it,
and the clip is a followup. An interaction token lives 15 minutes; past ~14, or when Discord
says the token is gone (10062, 50027), the clip goes out as an ordinary channel message that
mentions the author instead, so it is never lost.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import discord

from adapters.discord.views import clip_view, note_view
from bot.ports import CannotDM, Capabilities, Notice, PlatformBusy, UploadTooLarge
from bot.replies import Choice, ClipReady, Note, Progress, Refused, Usage
from bot.types import ChatRef, ChatUser, MessageRef

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Discord's upload limit on a server without boosts; an interaction tells the real one.
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# The token lives 15 minutes; a minute's margin covers a slow upload.
TOKEN_LIFETIME_S = 14 * 60
# Unknown interaction, invalid webhook token: both mean the interaction is no longer ours.
DEAD_TOKEN_CODES = frozenset({10062, 50027})
CANNOT_DM = 50007
# Interactions older than this are forgotten (far past the token's life).
FORGET_AFTER_S = 20 * 60
REQUEST_PREFIX = "interaction"
# The attachment a status message shows while its clip renders (the clip replaces it).
PREVIEW_NAME = "preview.jpg"


@dataclass
class Pending:
    """An interaction we may still answer through its token."""

    interaction: discord.Interaction
    ephemeral: bool
    started: float
    # Whether anything replaced the "thinking…" response yet (see `settle`).
    answered: bool = False


def request_ref(chat: ChatRef, interaction: discord.Interaction) -> MessageRef:
    """The command's "message": the interaction, plus its author so that a clip posted after
    a restart (the interaction long forgotten) can still mention them."""
    return MessageRef(chat, f"{REQUEST_PREFIX}:{interaction.id}:{interaction.user.id}")


def author_of(request: MessageRef | None) -> str | None:
    if request is None or not request.message_id.startswith(f"{REQUEST_PREFIX}:"):
        return None
    return request.message_id.rpartition(":")[2] or None


# How far back a channel is searched for a clip an earlier process may have posted.
HISTORY_SEARCHED = 50


class DiscordPort:
    platform = PLATFORM
    # Discord tolerates more, but a progress bar edited more often than every 2 s is noise and
    # spends the channel's rate limit.
    capabilities = Capabilities(
        edits=True,
        deletes=True,
        max_upload_bytes=DEFAULT_UPLOAD_LIMIT,
        min_edit_interval_s=2.0,
        finds_clips=True,
    )

    def __init__(
        self,
        client: discord.Client,
        secret: bytes,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.secret = secret
        self.clock = clock
        self._pending: dict[str, Pending] = {}
        # Status message id -> request key, so edits go through the interaction's token.
        self._statuses: dict[str, str] = {}
        # Per channel, the upload limit its last interaction reported.
        self._limits: dict[str, int] = {}
        # Status messages that show a preview picture (an attachment).
        self._previewed: set[str] = set()

    # Interactions ---------------------------------------------------------------------------

    async def begin(
        self, interaction: discord.Interaction, chat: ChatRef, *, ephemeral: bool = False
    ) -> MessageRef:
        """Acknowledge within Discord's 3 s and remember the interaction for the replies."""
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        self._forget_old()
        request = request_ref(chat, interaction)
        self._pending[request.message_id] = Pending(interaction, ephemeral, self.clock())
        self._limits[chat.chat_id] = interaction.filesize_limit
        return request

    def _live(self, key: str | None) -> Pending | None:
        """The interaction behind a request key, while its token is still safe to use."""
        pending = self._pending.get(key) if key else None
        if pending is None or self.clock() - pending.started > TOKEN_LIFETIME_S:
            return None
        return pending

    def _forget_old(self) -> None:
        now = self.clock()
        for key, pending in list(self._pending.items()):
            if now - pending.started > FORGET_AFTER_S:
                del self._pending[key]
        live = set(self._pending)
        self._statuses = {k: v for k, v in self._statuses.items() if v in live}

    # ChatPort -------------------------------------------------------------------------------

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        key = reply_to.message_id if reply_to else None
        pending = self._live(key)
        if pending is None or key is None:
            return await self._channel_post(chat, reply, author_of(reply_to))
        pending.answered = True
        interaction = pending.interaction
        if isinstance(reply, Refused | Usage) and not pending.ephemeral:
            return await self._whisper(chat, interaction, reply.text)
        message = await interaction.edit_original_response(
            content=reply.text, view=self._note_view(chat, reply)
        )
        self._statuses[str(message.id)] = key
        return MessageRef(chat, str(message.id))

    async def _whisper(
        self, chat: ChatRef, interaction: discord.Interaction, text: str
    ) -> MessageRef:
        """A refusal is for the person who asked, not the channel. The public "thinking"
        message goes first: a followup to a deferred response would otherwise replace it and
        inherit its visibility."""
        await interaction.delete_original_response()
        message = await interaction.followup.send(text, ephemeral=True, wait=True)
        return MessageRef(chat, str(message.id))

    async def settle(self, request: MessageRef, text: str) -> None:
        """Replace a "thinking…" response that the core left unanswered (it answered
        elsewhere, e.g. by direct message), so it does not spin until the token expires."""
        pending = self._live(request.message_id)
        if pending is not None and not pending.answered:
            pending.answered = True
            await pending.interaction.edit_original_response(content=text)

    async def edit(self, message: MessageRef, reply: Notice) -> None:
        # A status or note shows the buttons of its note, if any: none clears the old ones.
        view = self._note_view(message.chat, reply)
        files = self._preview_files(message, reply)
        pending = self._live(self._statuses.get(message.message_id))
        if pending is not None:
            if files is None:
                await pending.interaction.edit_original_response(content=reply.text, view=view)
            else:
                await pending.interaction.edit_original_response(
                    content=reply.text, view=view, attachments=files
                )
            return
        if files is None:
            await self._message(message).edit(content=reply.text, view=view)
        else:
            await self._message(message).edit(content=reply.text, view=view, attachments=files)

    def _preview_files(self, message: MessageRef, reply: Notice) -> list[discord.File] | None:
        """A progress bar's preview frame replaces the status's attachment; the outcome (a
        failure, a cancel) drops it; None leaves the attachments as they are."""
        if isinstance(reply, Progress) and reply.preview is not None:
            self._previewed.add(message.message_id)
            return [discord.File(io.BytesIO(reply.preview), filename=PREVIEW_NAME)]
        if not isinstance(reply, Progress) and message.message_id in self._previewed:
            self._previewed.discard(message.message_id)
            return []
        return None

    async def delete(self, message: MessageRef) -> None:
        pending = self._live(self._statuses.pop(message.message_id, None))
        if pending is not None:
            await pending.interaction.delete_original_response()
            return
        try:
            await self._message(message).delete()
        except discord.NotFound:
            log.info("discord: message already gone", extra={"message_id": message.message_id})

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        limit = self._limits.get(chat.chat_id, DEFAULT_UPLOAD_LIMIT)
        if len(video) > limit:
            raise UploadTooLarge(limit)
        pending = self._live(reply_to.message_id if reply_to else None)
        if pending is not None:
            pending.answered = True
            try:
                message = await pending.interaction.followup.send(
                    clip.text, file=_file(clip, video), view=self._view(chat, clip), wait=True
                )
                return MessageRef(chat, str(message.id))
            except discord.HTTPException as error:
                _raise_if_too_large(error)
                if error.code not in DEAD_TOKEN_CODES:
                    raise
                log.info("discord: interaction expired; posting in the channel instead")
        return await self._channel_clip(chat, clip, video, author_of(reply_to))

    def link(self, message: MessageRef) -> str | None:
        """discord.com/channels/<server>/<channel>/<message>; the server comes from the cache
        of channels the bot can see (a DM channel's is @me)."""
        channel = self.client.get_channel(int(message.chat.chat_id))
        if channel is None:
            return None
        guild = getattr(channel, "guild", None)
        where = "@me" if guild is None else str(guild.id)
        return f"https://discord.com/channels/{where}/{message.chat.chat_id}/{message.message_id}"

    async def find_clip(self, chat: ChatRef, clip_id: int) -> MessageRef | None:
        """The bot's recent message carrying `clip-<id>.mp4` in the channel (after a restart
        mid-upload: did the earlier upload go through?)."""
        channel = self.client.get_partial_messageable(int(chat.chat_id))
        name = f"clip-{clip_id}.mp4"
        me = self.client.user
        async for message in channel.history(limit=HISTORY_SEARCHED):
            mine = me is None or message.author.id == me.id
            if mine and any(a.filename == name for a in message.attachments):
                return MessageRef(chat, str(message.id))
        return None

    # Direct messages ------------------------------------------------------------------------

    async def dm(self, user: ChatUser, note: Note) -> MessageRef:
        """Message a person directly (e.g. to ask for a cameo approval), the note's choices as
        buttons. Raises CannotDM when Discord refuses (50007: no shared server, or they turned
        off DMs from server members), so the core can tell whoever asked."""
        try:
            channel = await self.client.create_dm(discord.Object(int(user.user_id)))
            chat = ChatRef(PLATFORM, str(channel.id))
            view = self._note_view(chat, note)
            if view is None:
                message = await channel.send(note.text)
            else:
                message = await channel.send(note.text, view=view)
        except discord.Forbidden as error:
            if error.code == CANNOT_DM:
                raise CannotDM(user.handle) from error
            raise
        return MessageRef(chat, str(message.id))

    # Channel messages (no interaction to answer through) -----------------------------------

    async def _channel_post(self, chat: ChatRef, reply: Notice, author: str | None) -> MessageRef:
        channel = self.client.get_partial_messageable(int(chat.chat_id))
        text, mentions = _mention(author, reply.text), _only(author)
        view = self._note_view(chat, reply)
        if view is None:
            message = await channel.send(text, allowed_mentions=mentions)
        else:
            message = await channel.send(text, allowed_mentions=mentions, view=view)
        return MessageRef(chat, str(message.id))

    async def _channel_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, author: str | None
    ) -> MessageRef:
        channel = self.client.get_partial_messageable(int(chat.chat_id))
        try:
            message = await channel.send(
                _mention(author, clip.text),
                file=_file(clip, video),
                view=self._view(chat, clip),
                allowed_mentions=_only(author),
            )
        except discord.HTTPException as error:
            _raise_if_too_large(error)
            raise
        return MessageRef(chat, str(message.id))

    def _message(self, message: MessageRef) -> discord.PartialMessage:
        channel = self.client.get_partial_messageable(int(message.chat.chat_id))
        return channel.get_partial_message(int(message.message_id))

    def _view(self, chat: ChatRef, clip: ClipReady) -> discord.ui.View:
        return clip_view(clip.clip_id, chat_id=chat.chat_id, secret=self.secret)

    def _note_view(self, chat: ChatRef, reply: Notice) -> discord.ui.View | None:
        # A Note's choices, or a status message's Cancel (Queued and Progress have choices too).
        choices: tuple[Choice, ...] = getattr(reply, "choices", ())
        if not choices:
            return None
        return note_view(Note(reply.text, choices), chat_id=chat.chat_id, secret=self.secret)


def _file(clip: ClipReady, video: bytes) -> discord.File:
    return discord.File(io.BytesIO(video), filename=f"clip-{clip.clip_id}.mp4")


def _mention(author: str | None, text: str) -> str:
    return f"<@{author}> {text}" if author else text


def _only(author: str | None) -> discord.AllowedMentions:
    # A prompt may contain @everyone or <@someone>; only the author's own mention may ping.
    users = [discord.Object(int(author))] if author else []
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)


def _raise_if_too_large(error: discord.HTTPException) -> None:
    """The core's own words for the refusals it acts on: too large (smaller, again) and busy
    (later, again). discord.py has waited out 429s and retried 5xx itself before this."""
    if error.status == 413 or error.code == 40005:
        raise UploadTooLarge(None) from error
    if error.status == 429 or error.status >= 500:
        retry_after = getattr(error, "retry_after", None)
        raise PlatformBusy(float(retry_after) if retry_after is not None else None) from error

"""The core's way into Telegram: `bot.ports.ChatPort` for platform "telegram", over PTB's Bot."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
)
from telegram.constants import ChatMemberStatus, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from adapters.telegram.convert import PLATFORM, message_ref
from adapters.telegram.status import PhotoStatuses
from bot.callbacks import Action, Button, sign
from bot.ports import CannotDM, Capabilities, Notice, PlatformBusy, UploadTooLarge
from bot.replies import Choice, ClipReady, Note, Progress
from bot.types import ChatRef, ChatUser, MessageRef

log = logging.getLogger(__name__)

# Bots may upload 50 MB through the public Bot API (a self-hosted Bot API server takes 2 GB).
MAX_UPLOAD_BYTES = 50 * 1000 * 1000
# Telegram tolerates about one message a second per chat and 20 a minute per group, edits
# included; a progress bar is not worth spending that on more often than every 3 s.
MIN_EDIT_INTERVAL_S = 3.0
MAX_TRACKED_CHATS = 10_000
# A clip upload can take a while on a slow link; PTB's default write timeout is 5 s.
UPLOAD_TIMEOUT_S = 120.0
# What Telegram answers (400) for a private chat that does not exist for the bot.
_NO_SUCH_CHAT = re.compile(r"chat not found|user not found|peer_id_invalid", re.IGNORECASE)
# Whether the bot is a chat admin (so reactions reach it) is asked again after this long.
ADMIN_CHECK_TTL_S = 300.0
LIKE_LABEL = "❤️"
BUTTONS: tuple[tuple[str, Action], ...] = (
    ("🎨 Remix", "remix"),
    ("🎲 Reroll", "reroll"),
    ("🗑️ Delete", "delete"),
)


class TelegramPort:
    platform = PLATFORM
    capabilities = Capabilities(
        edits=True,
        deletes=True,
        max_upload_bytes=MAX_UPLOAD_BYTES,
        min_edit_interval_s=MIN_EDIT_INTERVAL_S,
    )

    def __init__(self, bot: Bot, *, secret: bytes) -> None:
        self.bot = bot
        self.secret = secret
        # Status messages that show a preview picture (adapters.telegram.status).
        self.statuses = PhotoStatuses(bot)
        # The core throttles edits per job; two jobs in one chat would still edit twice as
        # often, so progress edits are also spaced per chat (monotonic time of the last one).
        self._last_edit: dict[str, float] = {}
        # Per chat: (whether reactions reach the bot there, monotonic time when asked).
        self._admin: dict[str, tuple[bool, float]] = {}

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        sent = await self.bot.send_message(
            chat_id=int(chat.chat_id),
            text=reply.text,
            reply_markup=self.choices(chat.chat_id, reply),
            reply_parameters=_in_reply_to(reply_to),
        )
        return MessageRef(chat, str(sent.message_id))

    async def find_clip(self, chat: ChatRef, clip_id: int) -> MessageRef | None:
        # Bots cannot read a chat's history (capabilities.finds_clips is off): never found.
        return None

    def link(self, message: MessageRef) -> str | None:
        """Supergroups and channels (ids -100…) have t.me/c links, readable by their members;
        private chats and basic groups have none."""
        chat_id = message.chat.chat_id
        if not chat_id.startswith("-100"):
            return None
        return f"https://t.me/c/{chat_id.removeprefix('-100')}/{message.message_id}"

    async def dm(self, user: ChatUser, note: Note) -> MessageRef:
        """A private chat's id is the user's id; Telegram lets the bot write there only after
        the person has started a chat with it (and not blocked it since)."""
        try:
            sent = await self.bot.send_message(
                chat_id=int(user.user_id),
                text=note.text,
                reply_markup=self.choices(user.user_id, note),
            )
        except Forbidden as error:  # can't initiate conversation / blocked / deactivated
            log.info("telegram: direct message refused", extra={"reason": error.message})
            raise CannotDM(user.handle) from error
        except BadRequest as error:
            if not _NO_SUCH_CHAT.search(error.message):
                raise
            log.info("telegram: direct message refused", extra={"reason": error.message})
            raise CannotDM(user.handle) from error
        return message_ref(sent)

    async def edit(self, message: MessageRef, reply: Notice) -> MessageRef | None:
        if isinstance(reply, Progress) and not self._may_edit(message.chat.chat_id):
            return None  # a skipped progress step is invisible; a flood-wait is not
        # Without reply_markup Telegram drops the message's buttons: a Note edited to its
        # outcome (an answered consent request) loses them, as it should.
        markup = self.choices(message.chat.chat_id, reply)
        try:
            if isinstance(reply, Progress) and reply.preview is not None:
                return await self.statuses.show_preview(message, reply.text, reply.preview, markup)
            await self.statuses.edit_text(message, reply.text, markup)
        except BadRequest as error:
            # Same text again, or a status message someone deleted: nothing left to show.
            log.info("telegram: edit skipped", extra={"reason": error.message})
        return None

    async def delete(self, message: MessageRef) -> None:
        self.statuses.forget(message)
        await self.bot.delete_message(
            chat_id=int(message.chat.chat_id), message_id=int(message.message_id)
        )

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        try:
            sent = await self.bot.send_video(
                chat_id=int(chat.chat_id),
                video=InputFile(video, filename=f"clip-{clip.clip_id}.mp4"),
                supports_streaming=True,
                width=clip.width,
                height=clip.height,
                duration=max(1, round(clip.duration_s)),
                caption=clip.text[: MessageLimit.CAPTION_LENGTH],
                reply_markup=self.keyboard(
                    chat, clip.clip_id, like=not await self.reactions_arrive(chat)
                ),
                reply_parameters=_in_reply_to(reply_to),
                write_timeout=UPLOAD_TIMEOUT_S,
            )
        except RetryAfter as error:
            # Past the rate limiter's own retries: the core tries again, after this long.
            raise PlatformBusy(_seconds(error.retry_after)) from error
        except NetworkError as error:
            # PTB has no exception class for 413; its message ends with the status code.
            if "(413)" in error.message or "too large" in error.message.lower():
                raise UploadTooLarge(None) from error
            raise PlatformBusy(None) from error
        return MessageRef(chat, str(sent.message_id))

    def keyboard(self, chat: ChatRef, clip_id: int, *, like: bool = False) -> InlineKeyboardMarkup:
        """Remix / Reroll / Delete, and ❤️ where reactions do not reach the bot; the payloads
        are signed for this chat (bot.callbacks)."""
        buttons: tuple[tuple[str, Action], ...] = ((LIKE_LABEL, "like"),) if like else ()
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        label,
                        callback_data=sign(
                            Button(action, clip_id), chat_id=chat.chat_id, secret=self.secret
                        ),
                    )
                    for label, action in buttons + BUTTONS
                ]
            ]
        )

    async def reactions_arrive(self, chat: ChatRef) -> bool:
        """Telegram sends reactions only to a bot that is an admin of the chat (getChatMember
        says; asked again every few minutes, since admins come and go)."""
        known = self._admin.get(chat.chat_id)
        now = time.monotonic()
        if known is not None and now - known[1] < ADMIN_CHECK_TTL_S:
            return known[0]
        try:
            member = await self.bot.get_chat_member(chat_id=int(chat.chat_id), user_id=self.bot.id)
            admin = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        except TelegramError as error:
            log.info(
                "telegram: could not tell whether the bot is admin", extra={"reason": str(error)}
            )
            admin = False
        self._admin[chat.chat_id] = (admin, now)
        return admin

    def choices(self, chat_id: str, reply: Notice) -> InlineKeyboardMarkup | None:
        """A Note's choices as buttons, one per row (labels such as "Always allow @someone"
        would be cut short side by side); each payload is signed for `chat_id`."""
        # A Note's choices, or a status message's Cancel (Queued and Progress have choices too).
        choices: tuple[Choice, ...] = getattr(reply, "choices", ())
        if not choices:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        choice.label,
                        callback_data=sign(choice.button, chat_id=chat_id, secret=self.secret),
                    )
                ]
                for choice in choices
            ]
        )

    def _may_edit(self, chat_id: str) -> bool:
        now = time.monotonic()
        last = self._last_edit.get(chat_id)
        if last is not None and now - last < MIN_EDIT_INTERVAL_S:
            return False
        self._last_edit[chat_id] = now
        if len(self._last_edit) > MAX_TRACKED_CHATS:  # forget chats whose spacing has passed
            self._last_edit = {
                chat: at for chat, at in self._last_edit.items() if now - at < MIN_EDIT_INTERVAL_S
            }
        return True


def _in_reply_to(message: MessageRef | None) -> ReplyParameters | None:
    if message is None:
        return None
    # The command may have been deleted meanwhile; the answer is still worth posting.
    return ReplyParameters(message_id=int(message.message_id), allow_sending_without_reply=True)


def _seconds(retry_after: int | float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)

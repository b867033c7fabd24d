"""A status message that shows a preview picture: Telegram cannot turn a text message into a
photo, so the first preview replaces the text status with a photo message (caption = the
status), later ones swap the photo in place (editMessageMedia), and text edits of a photo
status go to its caption. The finished clip replaces it (the core deletes the status).
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardMarkup, InputFile, InputMediaPhoto
from telegram.constants import MessageLimit
from telegram.error import BadRequest

from bot.types import MessageRef

log = logging.getLogger(__name__)

PREVIEW_NAME = "preview.jpg"
# What Telegram answers for a text edit of a message that has a caption instead.
_NO_TEXT = "there is no text in the message to edit"


class PhotoStatuses:
    """Which status messages are photos now (forgotten on restart: a failed text edit of a
    photo tells, and the caption is edited instead)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._photos: set[tuple[str, str]] = set()

    async def show_preview(
        self, message: MessageRef, text: str, preview: bytes, markup: InlineKeyboardMarkup | None
    ) -> MessageRef | None:
        """Show `preview` with `text` as the status; returns the new message when the text
        status had to be replaced by a photo one."""
        chat_id, caption = int(message.chat.chat_id), text[: MessageLimit.CAPTION_LENGTH]
        if self.is_photo(message):
            await self.bot.edit_message_media(
                # Raw bytes, so PTB attaches them as `attach://…` the way the Bot API asks (an
                # InputFile made here would not be attached).
                media=InputMediaPhoto(preview, caption=caption, filename=PREVIEW_NAME),
                chat_id=chat_id,
                message_id=int(message.message_id),
                reply_markup=markup,
            )
            return None
        sent = await self.bot.send_photo(
            chat_id=chat_id,
            photo=InputFile(preview, filename=PREVIEW_NAME),
            caption=caption,
            reply_markup=markup,
        )
        moved = MessageRef(message.chat, str(sent.message_id))
        self._photos.add(_key(moved))
        try:
            await self.bot.delete_message(chat_id=chat_id, message_id=int(message.message_id))
        except BadRequest as error:
            log.info("telegram: old status not deleted", extra={"reason": error.message})
        return moved

    async def edit_text(
        self, message: MessageRef, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """The status's words: the text of a text message, the caption of a photo one."""
        chat_id, message_id = int(message.chat.chat_id), int(message.message_id)
        if not self.is_photo(message):
            try:
                await self.bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
                return
            except BadRequest as error:
                if _NO_TEXT not in error.message.lower():
                    raise
                self._photos.add(_key(message))
        await self.bot.edit_message_caption(
            caption=text[: MessageLimit.CAPTION_LENGTH],
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=markup,
        )

    def is_photo(self, message: MessageRef) -> bool:
        return _key(message) in self._photos

    def forget(self, message: MessageRef) -> None:
        self._photos.discard(_key(message))


def _key(message: MessageRef) -> tuple[str, str]:
    return (message.chat.chat_id, message.message_id)

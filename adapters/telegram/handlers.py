"""Updates → commands → the core. Each handler is short: parse, build the command, hand it to
the core; the core posts its replies through the port. Button presses are answered here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    ForceReply,
    MaybeInaccessibleMessage,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import CallbackQueryLimit, ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    filters,
)
from telegram.helpers import mention_html

from adapters.telegram import admins
from adapters.telegram.convert import (
    REMIX_PROMPT,
    KnownUsers,
    chat_ref,
    chat_user,
    message_ref,
    remix_target,
)
from adapters.telegram.port import TelegramPort
from adapters.telegram.reactions import counted, reacted
from bot.admin_commands import AdminCommand
from bot.callbacks import BadButton, Button, command_for, verify
from bot.commands import (
    Command,
    DeleteClip,
    Generate,
    Remix,
    Reroll,
    SelfieUpload,
    VerifyUpload,
)
from bot.feed_commands import FeedPage, React, ReactionCounts, ShowFeed, ToggleLike
from bot.ports import CorePort
from bot.text_commands import parse_command
from bot.types import ChatUser

log = logging.getLogger(__name__)

# A selfie clip is downloaded only when the core asks (after checking its size); 20 MB over a
# slow link takes longer than PTB's default 5 s read timeout.
DOWNLOAD_TIMEOUT_S = 120.0


@dataclass
class Handlers:
    core: CorePort
    secret: bytes
    command: str
    # Renders the feed's pages in place of a pressed one, and knows whether reactions arrive.
    port: TelegramPort | None = None
    known: KnownUsers = field(default_factory=KnownUsers)

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        only_messages = filters.UpdateType.MESSAGE  # edits of old commands are not new commands
        application.add_handler(MessageHandler(only_messages & filters.COMMAND, self.on_command))
        application.add_handler(
            MessageHandler(
                only_messages & filters.REPLY & filters.TEXT & ~filters.COMMAND, self.on_reply
            )
        )
        # A video sent to the bot privately is a cameo selfie; videos in groups are just chat.
        videos = filters.VIDEO | filters.VIDEO_NOTE | filters.Document.VIDEO
        application.add_handler(
            MessageHandler(only_messages & filters.ChatType.PRIVATE & videos, self.on_video)
        )
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageReactionHandler(self.on_reaction))
        application.add_error_handler(self.on_error)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.from_user is None or message.text is None:
            return
        self.known.saw(message.from_user)
        replied = message.reply_to_message
        command = parse_command(
            message.text,
            command_name=self.command,
            author=chat_user(message.from_user),
            chat=chat_ref(message.chat),
            message=message_ref(message),
            reply_to=message_ref(replied) if replied else None,
            bot_username=context.bot.username,
        )
        if command is None:
            return  # ordinary chat, or a command for another bot
        if isinstance(command, ShowFeed) and self.port is not None:
            # The answer tells a chat where reactions cannot reach the bot how to fix that.
            arrive = await self.port.reactions_arrive(command.chat)
            command = replace(command, reactions_off=not arrive)
        if isinstance(command, AdminCommand):
            command = await admins.marked(context.bot, command, message, self.known)
        if isinstance(command, Generate):
            command = self._as_remix(command, replied, context.bot.id) or command
            command = _with_mentions(command, self.known.mentions(message))
        await self.core.handle(command)

    async def on_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A plain reply to one of our Remix prompts is the prompt of that remix."""
        message = update.message
        if message is None or message.from_user is None or message.text is None:
            return
        self.known.saw(message.from_user)
        clip_id = remix_target(message.reply_to_message, bot_id=context.bot.id)
        if clip_id is None:
            return  # a reply to something else: chat, not a command
        await self.core.handle(
            Remix(
                prompt=message.text,
                author=chat_user(message.from_user),
                chat=chat_ref(message.chat),
                parent_clip_id=clip_id,
                message=message_ref(message),
            )
        )

    async def on_video(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private video (a video, a round video note, or a video sent as a file): the selfie
        of a cameo enrollment. The core checks the stated size before it fetches the file."""
        message = update.message
        if message is None or message.from_user is None:
            return
        self.known.saw(message.from_user)
        video = message.video or message.video_note or message.document
        if video is None:
            return
        # Captioned /verify: "where did this video come from?"; otherwise a cameo selfie.
        kind = VerifyUpload if _is_verify(message.caption) else SelfieUpload
        await self.core.handle(
            kind(
                author=chat_user(message.from_user),
                chat=chat_ref(message.chat),
                fetch=_fetcher(context.bot, video.file_id),
                size_bytes=video.file_size,
                message=message_ref(message),
            )
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None or query.data is None:
            return
        chat = chat_ref(query.message.chat)
        try:
            button = verify(query.data, chat_id=chat.chat_id, secret=self.secret)
        except BadButton as error:
            await query.answer(str(error), show_alert=True)
            return
        command = command_for(
            button,
            author=chat_user(query.from_user),
            chat=chat,
            message=message_ref(query.message),
            is_admin=await self._presser_is_admin(query, button),
        )
        if command is None:  # Remix: ask for the change under the clip
            await query.answer()
            await self._ask_for_remix(query.message, query.from_user, button.clip_id)
        elif isinstance(command, FeedPage):
            await self._turn_page(query, command)
        else:
            await self._press(query, command)

    async def _press(self, query: CallbackQuery, command: Command) -> None:
        """A press the core answers to the presser alone, as the query's answer (an alert for
        a verdict); a Reroll's clip arrives in the chat."""
        if isinstance(command, Reroll):
            await query.answer("🎲 Rerolling…")
            await self.core.handle(command)
            return
        answer = await self.core.handle(command)
        if isinstance(command, ToggleLike):
            await query.answer(answer.text)
        elif isinstance(command, DeleteClip):
            await query.answer(answer.text, show_alert=True)
        else:
            limit = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
            await query.answer(answer.text[:limit], show_alert=True)

    @staticmethod
    async def _presser_is_admin(query: CallbackQuery, button: Button) -> bool:
        """Only a Cancel asks (it costs a Bot API call): may the presser cancel anyone's clip?"""
        if button.action != "cancel" or query.message is None:
            return False
        return await admins.is_admin_of(query.get_bot(), query.message.chat, query.from_user)

    async def on_reaction(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reactions on a message (only a chat admin bot gets them); the core counts those on
        its clips."""
        command: React | ReactionCounts | None = None
        if update.message_reaction is not None:
            command = reacted(update.message_reaction)
        elif update.message_reaction_count is not None:
            command = counted(update.message_reaction_count)
        if command is not None:
            await self.core.handle(command)

    async def _turn_page(self, query: CallbackQuery, page: FeedPage) -> None:
        """A /feed paging button: the answer is shown in place of the pressed message."""
        note = await self.core.handle(page)
        await query.answer()
        markup = self.port.choices(page.chat.chat_id, note) if self.port is not None else None
        try:
            await query.edit_message_text(note.text, reply_markup=markup)
        except BadRequest as error:  # the same page again: nothing changed
            log.info("telegram: feed page unchanged", extra={"reason": error.message})

    @staticmethod
    async def _ask_for_remix(clip: MaybeInaccessibleMessage, user: User, clip_id: int) -> None:
        """A ForceReply prompt under the clip; the reply to it is the remix (see on_reply)."""
        await clip.get_bot().send_message(
            chat_id=clip.chat.id,
            text=REMIX_PROMPT.format(clip_id=clip_id, who=mention_html(user.id, user.full_name)),
            parse_mode=ParseMode.HTML,
            # Selective: the reply box opens for the person mentioned in the text, not everyone.
            reply_markup=ForceReply(selective=True, input_field_placeholder="What should change?"),
            reply_parameters=ReplyParameters(
                message_id=clip.message_id, allow_sending_without_reply=True
            ),
        )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # One route for every handler's failure; the exception text never holds the token.
        log.error("telegram: handling an update failed", exc_info=context.error)

    @staticmethod
    def _as_remix(command: Generate, replied: Any, bot_id: int) -> Remix | None:
        """`/sora <change>` sent as a reply to a Remix prompt means the same as a plain reply."""
        clip_id = remix_target(replied, bot_id=bot_id)
        if clip_id is None:
            return None
        return Remix(command.prompt, command.author, command.chat, clip_id, command.message)


def _fetcher(bot: Bot, file_id: str) -> Callable[[], Awaitable[bytes]]:
    """Downloads a file through getFile (which Telegram refuses above 20 MB), when called."""

    async def fetch() -> bytes:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_S))

    return fetch


def _with_mentions(command: Generate | Remix, mentions: tuple[ChatUser, ...]) -> Generate | Remix:
    if isinstance(command, Remix) or not mentions:
        return command
    return replace(command, mentions=mentions)


def _is_verify(caption: str | None) -> bool:
    """A caption of `/verify` (or `/verify@thisbot`, with anything after it)."""
    words = (caption or "").split()
    return bool(words) and words[0].split("@", 1)[0].lower() == "/verify"

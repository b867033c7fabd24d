"""Who may use /admin in a Telegram chat: its creator and administrators, as getChatMember
says (asked at each /admin, so a demoted admin loses it at once). In a private chat with the
bot the person is the only member, so they are its admin."""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Bot, Chat, Message, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from adapters.telegram.convert import KnownUsers
from bot.admin_commands import AdminCommand

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


async def is_admin(bot: Bot, message: Message) -> bool:
    return await is_admin_of(bot, message.chat, message.from_user)


async def is_admin_of(bot: Bot, chat: Chat, user: User | None) -> bool:
    """Whether `user` is the creator or an administrator of `chat` (a button's presser)."""
    if user is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    try:
        member = await bot.get_chat_member(chat.id, user.id)
    except TelegramError as error:
        # Not knowing is not being an admin; the person is told they aren't one.
        log.warning("telegram: getChatMember failed", extra={"reason": str(error)})
        return False
    return member.status in ADMIN_STATUSES


async def marked(
    bot: Bot, command: AdminCommand, message: Message, known: KnownUsers
) -> AdminCommand:
    """The command marked with what only Telegram knows: is the author an admin here, and
    whom the arguments mention. Telegram marks no chat as adult, so `adult_place` stays None:
    the adult policy takes an admin's confirmation after a warning."""
    return replace(command, is_admin=await is_admin(bot, message), mentions=known.mentions(message))

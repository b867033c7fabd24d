"""Turning a chat message's text into a command, for surfaces whose commands are plain text
(the local chat; Telegram's entities are parsed by its adapter but land on the same names)."""

from __future__ import annotations

import re

from bot.admin_commands import AdminCommand
from bot.commands import CameoCommand, Command, Generate, Help, Repost, Unknown
from bot.feed_commands import RemixByNumber, ShowFeed
from bot.queue_commands import ShowQueue
from bot.types import ChatRef, ChatUser, MessageRef

# `/name`, optionally `/name@botname`, then the rest of the message.
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@(?P<bot>[A-Za-z0-9_]+))?(?:\s+|$)")
HELP_NAMES = frozenset({"help", "start"})


def parse_command(
    text: str,
    *,
    command_name: str,
    author: ChatUser,
    chat: ChatRef,
    message: MessageRef | None = None,
    reply_to: MessageRef | None = None,
    bot_username: str | None = None,
) -> Command | None:
    """The command in `text`, or None when it is ordinary chat (or addressed to another bot)."""
    stripped = text.lstrip()
    match = _COMMAND.match(stripped)
    if match is None:
        return None
    addressee = match["bot"]
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None
    name = match["name"].lower()
    rest = stripped[match.end() :]
    if name == command_name:
        return Generate(prompt=rest, author=author, chat=chat, message=message, reply_to=reply_to)
    with_args = _with_args(name, rest.strip(), author, chat, message)
    if with_args is not None:
        return with_args
    if name == "repost":
        number = rest.strip().lstrip("#")
        clip_id = int(number) if number.isdigit() and len(number) < 12 else None
        return Repost(author=author, chat=chat, clip_id=clip_id, message=message)
    if name in HELP_NAMES:
        return Help(author=author, chat=chat, message=message)
    return Unknown(name=name, author=author, chat=chat, message=message)


def _with_args(
    name: str, args: str, author: ChatUser, chat: ChatRef, message: MessageRef | None
) -> Command | None:
    """The commands that take the rest of the message as their arguments."""
    if name == "cameo":
        return CameoCommand(args=args, author=author, chat=chat, message=message)
    if name == "feed":
        return ShowFeed(args=args, author=author, chat=chat, message=message)
    if name == "queue":
        return ShowQueue(author=author, chat=chat, message=message)
    if name == "remix":
        return RemixByNumber(args=args, author=author, chat=chat, message=message)
    if name == "admin":
        # The adapter asks its platform whether the author is an admin and marks the command.
        return AdminCommand(args=args, author=author, chat=chat, message=message)
    return None

"""Telegram objects → the core's platform-neutral types (bot.types). Pure functions."""

from __future__ import annotations

import re
from collections import OrderedDict

from telegram import Chat, MaybeInaccessibleMessage, Message, MessageEntity, User

from bot.types import ChatRef, ChatUser, MessageRef

# The ForceReply message the Remix button posts. The clip id lives in its text, so a reply to
# it still finds the clip after a restart; only the bot's own messages are trusted for it.
REMIX_PROMPT = "✏️ Remix of clip #{clip_id}: {who}, reply to this message with what should change."
_REMIX_PROMPT = re.compile(r"^✏️ Remix of clip #(\d+):")
MAX_KNOWN_USERS = 10_000
PLATFORM = "telegram"


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(PLATFORM, str(chat.id), title=chat.title or chat.full_name or "")


def chat_user(user: User) -> ChatUser:
    return ChatUser(PLATFORM, str(user.id), user.full_name, user.username)


def message_ref(message: MaybeInaccessibleMessage) -> MessageRef:
    return MessageRef(chat_ref(message.chat), str(message.message_id))


def remix_target(message: Message | None, *, bot_id: int) -> int | None:
    """The clip id when `message` is one of our Remix prompts; None for anything else."""
    if message is None or message.from_user is None or message.from_user.id != bot_id:
        return None
    match = _REMIX_PROMPT.match(message.text or "")
    return int(match[1]) if match else None


class KnownUsers:
    """Usernames of people the bot has seen write, so an `@name` in a prompt can name a user:
    the Bot API has no lookup by username. Bounded; the oldest are forgotten first."""

    def __init__(self, limit: int = MAX_KNOWN_USERS) -> None:
        self._by_name: OrderedDict[str, ChatUser] = OrderedDict()
        self._limit = limit

    def saw(self, user: User) -> None:
        if user.username and not user.is_bot:
            key = user.username.lower()
            self._by_name[key] = chat_user(user)
            self._by_name.move_to_end(key)
            if len(self._by_name) > self._limit:
                self._by_name.popitem(last=False)

    def mentions(self, message: Message) -> tuple[ChatUser, ...]:
        """Users mentioned in the message: `text_mention` entities carry the user; an
        `@username` counts when we know who that is (otherwise the prompt parser still sees
        the name in the text)."""
        found: dict[str, ChatUser] = {}
        for entity in message.entities:
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
                user: ChatUser | None = chat_user(entity.user)
            elif entity.type == MessageEntity.MENTION:
                user = self._by_name.get(_entity_text(message, entity).lstrip("@").lower())
            else:
                continue
            if user is not None:
                found.setdefault(user.user_id, user)
        return tuple(found.values())


def _entity_text(message: Message, entity: MessageEntity) -> str:
    """The entity's text; "" for one whose UTF-16 offsets cut a character in two, on which
    PTB's parse_entity raises UnicodeDecodeError (a mention starting inside an emoji did)."""
    try:
        return message.parse_entity(entity)
    except UnicodeDecodeError:
        return ""

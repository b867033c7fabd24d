"""Telegram: /sora in groups and private chats through python-telegram-bot, with a live status
message, the clip as a streaming video, and Remix / Reroll / Delete buttons."""

from adapters.telegram.app import build_application, start_telegram
from adapters.telegram.convert import PLATFORM
from adapters.telegram.port import TelegramPort

__all__ = ["PLATFORM", "TelegramPort", "build_application", "start_telegram"]

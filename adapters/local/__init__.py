"""The local web chat: one room in the browser, served by aiohttp, where a newcomer tries the bot
without any chat platform account."""

from adapters.local.people import People
from adapters.local.port import LocalPort
from adapters.local.room import Room
from adapters.local.server import LOCAL_CHAT, create_app, start_local_chat

__all__ = ["LOCAL_CHAT", "LocalPort", "People", "Room", "create_app", "start_local_chat"]

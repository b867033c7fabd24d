"""A core that records the commands the adapter builds, for tests about the adapter alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.commands import Command
from bot.ports import ChatPort

Respond = Callable[[Command], Awaitable[Any]]


@dataclass
class RecordingCore:
    ports: dict[str, ChatPort] = field(default_factory=dict)
    commands: asyncio.Queue[Command] = field(default_factory=asyncio.Queue)
    # What `handle` answers, for tests that need an answer (a verdict's text, a fetched file).
    respond: Respond | None = None

    def attach(self, port: ChatPort) -> None:
        self.ports[port.platform] = port

    async def handle(self, command: Command) -> Any:
        await self.commands.put(command)
        return await self.respond(command) if self.respond else None

    async def next(self) -> Command:
        async with asyncio.timeout(10):
            return await self.commands.get()

"""A core that records the commands the adapter builds, for tests about the adapter alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bot.commands import Command
from bot.ports import ChatPort


@dataclass
class RecordingCore:
    ports: dict[str, ChatPort] = field(default_factory=dict)
    commands: asyncio.Queue[Command] = field(default_factory=asyncio.Queue)

    def attach(self, port: ChatPort) -> None:
        self.ports[port.platform] = port

    async def handle(self, command: Command) -> Any:
        await self.commands.put(command)

    async def next(self) -> Command:
        async with asyncio.timeout(10):
            return await self.commands.get()

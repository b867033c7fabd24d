"""One browser tab's WebSocket: who it is, what it sends, and the frames it is owed.

A tab says `hello` (its display name and per-tab id), then `send`s lines. Every line is posted
to the room for everyone; a line that parses as a command also goes to the core, which answers
through the port. A bad frame gets an error frame back and the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from adapters.local.frames import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    BadFrame,
    Hello,
    Send,
    error_frame,
    parse_frame,
)
from adapters.local.room import Author, Frame, Room, RoomMessage
from bot.commands import Command
from bot.ports import ChatPort
from bot.text_commands import parse_command
from bot.types import ChatUser, MessageRef

log = logging.getLogger(__name__)

# Frames a tab may fall behind by before it is dropped; a healthy tab is never near this.
OUTBOX_LIMIT = 1000


class Core(Protocol):
    """What the adapter needs of `bot.service.Core`."""

    def attach(self, port: ChatPort) -> None: ...

    async def handle(self, command: Command) -> Any: ...


@dataclass
class Context:
    """Everything the handlers share, stored once on the aiohttp app."""

    core: Core
    room: Room
    command: str
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


class Outbox:
    """A tab's outgoing frames, written in order by one task, so that broadcasting never
    waits on a slow browser and frames to one socket never interleave."""

    def __init__(self, ws: web.WebSocketResponse, *, limit: int = OUTBOX_LIMIT) -> None:
        self._ws = ws
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(limit)
        self.overflowed = False

    def send(self, frame: Frame) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed = True
            log.warning("local chat: a tab fell too far behind and is dropped")

    async def run(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                await self._ws.send_json(frame)
            except (ConnectionError, RuntimeError):
                # The tab went away mid-send; the reader notices the close and cleans up.
                return
            if self.overflowed:
                # The page reconnects and gets the room afresh: better than a silent gap.
                await self._ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too far behind")
                return


class Session:
    def __init__(self, context: Context, ws: web.WebSocketResponse) -> None:
        self.context = context
        self.ws = ws
        self.outbox = Outbox(ws)
        self.user: ChatUser | None = None

    async def run(self) -> None:
        room = self.context.room
        writer = asyncio.create_task(self.outbox.run())
        # Snapshot and subscription happen with no await between them: no frame is missed.
        self.outbox.send(self._welcome())
        room.listen(self.outbox)
        self.context.sockets.add(self.ws)
        self._presence()
        try:
            await self._read()
        finally:
            room.leave(self.outbox)
            self.context.sockets.discard(self.ws)
            self._presence()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is WSMsgType.TEXT:
                await self.on_text(message.data)
            elif message.type is WSMsgType.ERROR:
                log.info("local chat: socket error", extra={"error": str(self.ws.exception())})
                return
            else:
                self.outbox.send(error_frame(BadFrame("bad_frame", "Frames are JSON text.")))

    async def on_text(self, raw: str) -> None:
        try:
            frame = parse_frame(raw)
            if isinstance(frame, Hello):
                self._hello(frame)
            else:
                await self._send(frame)
        except BadFrame as error:
            self.outbox.send(error_frame(error))

    def _hello(self, hello: Hello) -> None:
        self.user = ChatUser(platform="local", user_id=hello.user_id, display_name=hello.name)
        log.info("local chat: hello", extra={"user_id": hello.user_id})
        self.outbox.send({"type": "joined", "user": {"id": hello.user_id, "name": hello.name}})

    async def _send(self, send: Send) -> None:
        if self.user is None:
            raise BadFrame("no_hello", "Pick a display name before sending.")
        room = self.context.room
        message = RoomMessage(
            id=room.new_id(),
            kind="chat",
            author=Author(user_id=self.user.user_id, name=self.user.display_name),
            text=send.text,
            reply_to=send.reply_to,
            quote=room.quote_of(send.reply_to),
        )
        room.add(message)
        command = parse_command(
            send.text,
            command_name=self.context.command,
            author=self.user,
            chat=room.chat,
            message=MessageRef(room.chat, message.id),
            reply_to=MessageRef(room.chat, send.reply_to) if send.reply_to else None,
        )
        if command is not None:
            await self._handle(command)

    async def _handle(self, command: Command) -> None:
        message_id = command.message.message_id if command.message else None
        log.info(
            "local chat: command",
            extra={"command": type(command).__name__, "message_id": message_id},
        )
        try:
            await self.context.core.handle(command)
        except Exception:
            # The core answers in the room itself; reaching here is a bug, and the tab should
            # hear about it rather than wait forever.
            log.exception("local chat: the core failed on a command")
            self.outbox.send(
                error_frame(
                    BadFrame(
                        "internal",
                        "Something went wrong handling that command. It has been logged.",
                    )
                )
            )

    def _welcome(self) -> Frame:
        room = self.context.room
        return {
            "type": "welcome",
            "room": {"id": room.chat.chat_id, "title": room.chat.title},
            "command": self.context.command,
            "limits": {"text": MAX_TEXT_CHARS, "name": MAX_NAME_CHARS},
            "history": room.history(),
        }

    def _presence(self) -> None:
        room = self.context.room
        room.broadcast({"type": "presence", "online": room.listener_count})

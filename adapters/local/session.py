"""One browser tab's WebSocket: who it is, what it sends, and the frames it is owed.

A tab says `hello` (its display name and per-tab id), then `send`s lines. A line is posted to
the room for everyone, or to the person's private panel for them alone; a line that parses as a
command also goes to the core, which answers through the port. A `press` on a button under a
bot's message is verified and becomes the command it stands for; the core's answer goes back to
the presser alone, as a toast. A bad frame gets an error frame back and the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from adapters.local.frames import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    BadFrame,
    Hello,
    Panel,
    Press,
    Send,
    error_frame,
    parse_frame,
)
from adapters.local.people import People, Person
from adapters.local.port import notice_data
from adapters.local.room import Author, Frame, Listener, Room, RoomMessage
from bot.admin_commands import AdminCommand
from bot.callbacks import BadButton, command_for, verify
from bot.commands import Command
from bot.errors import SOMETHING_WRONG
from bot.feed_commands import FeedPage
from bot.ports import CorePort
from bot.replies import Note
from bot.text_commands import parse_command
from bot.types import MessageRef

log = logging.getLogger(__name__)

# Frames a tab may fall behind by before it is dropped; a healthy tab is never near this.
OUTBOX_LIMIT = 1000


@dataclass
class Context:
    """Everything the handlers share, stored once on the aiohttp app."""

    core: CorePort
    room: Room
    people: People
    command: str
    # Verifies button presses; the port signs with the same one.
    secret: bytes
    # The largest selfie video read from a private panel's upload.
    max_selfie_bytes: int
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


class PrivateListener:
    """A tab listening to its person's private panel: the same frames as the room's, marked
    `"panel": "private"` so the page draws them in the panel."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def send(self, frame: Frame) -> None:
        self._outbox.send({**frame, "panel": "private"})


class Session:
    def __init__(self, context: Context, ws: web.WebSocketResponse) -> None:
        self.context = context
        self.ws = ws
        self.outbox = Outbox(ws)
        self.person: Person | None = None
        self._private: Listener = PrivateListener(self.outbox)

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
            if self.person is not None:
                self.person.panel.leave(self._private)
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
            elif isinstance(frame, Send):
                await self._send(frame)
            else:
                await self._press(frame)
        except BadFrame as error:
            self.outbox.send(error_frame(error))

    def _hello(self, hello: Hello) -> None:
        if self.person is not None:
            self.person.panel.leave(self._private)
        person = self.person = self.context.people.saw(hello.user_id, hello.name)
        log.info("local chat: hello", extra={"user_id": hello.user_id})
        user = {"id": hello.user_id, "name": hello.name, "username": person.user.username}
        # Snapshot and subscription with no await between them, as for the room: what the bot
        # sent this person while they were away is replayed, and nothing new is missed.
        self.outbox.send({"type": "joined", "user": user, "private": person.panel.history()})
        person.panel.listen(self._private)

    def _me(self) -> Person:
        if self.person is None:
            raise BadFrame("no_hello", "Pick a display name before sending.")
        return self.person

    def _feed(self, panel: Panel) -> Room:
        return self._me().panel if panel == "private" else self.context.room

    async def _send(self, send: Send) -> None:
        user = self._me().user
        feed = self._feed(send.panel)
        message = RoomMessage(
            id=feed.new_id(),
            kind="chat",
            author=Author(user_id=user.user_id, name=user.display_name),
            text=send.text,
            reply_to=send.reply_to,
            quote=feed.quote_of(send.reply_to),
        )
        feed.add(message)
        command = parse_command(
            send.text,
            command_name=self.context.command,
            author=user,
            chat=feed.chat,
            message=MessageRef(feed.chat, message.id),
            reply_to=MessageRef(feed.chat, send.reply_to) if send.reply_to else None,
        )
        if isinstance(command, AdminCommand):
            people = self.context.people
            command = replace(
                command,
                is_admin=people.is_admin(user, feed.chat),
                mentions=people.named(command.args),
            )
        if command is not None:
            await self._handle(command)

    async def _press(self, press: Press) -> None:
        """A button under a bot message: verified for the chat it is shown in, then done."""
        user = self._me().user
        chat = self._feed(press.panel).chat
        try:
            button = verify(press.payload, chat_id=chat.chat_id, secret=self.context.secret)
        except BadButton as error:
            self.outbox.send(error_frame(BadFrame("bad_button", str(error))))
            return
        command = command_for(
            button,
            author=user,
            chat=chat,
            message=MessageRef(chat, press.message_id),
            # A status message's Cancel: the room's admin may cancel anyone's clip.
            is_admin=self.context.people.is_admin(user, chat),
        )
        if command is None:
            self.outbox.send(toast_frame(REMIX_HINT.format(command=self.context.command)))
            return
        reply = await self._handle(command)
        if isinstance(command, FeedPage) and isinstance(reply, Note):
            # A /feed page turned: shown in place of the pressed message, for everyone.
            data = notice_data(reply, chat_id=chat.chat_id, secret=self.context.secret)
            self._feed(press.panel).update(press.message_id, text=reply.text, data=data)
        elif reply is not None:
            self.outbox.send(toast_frame(str(reply.text)))

    async def _handle(self, command: Command) -> Any:
        message_id = command.message.message_id if command.message else None
        log.info(
            "local chat: command",
            extra={"command": type(command).__name__, "message_id": message_id},
        )
        try:
            return await self.context.core.handle(command)
        except Exception:
            # The core answers in the room itself; reaching here is a bug, and the tab should
            # hear about it rather than wait forever.
            log.exception("local chat: the core failed on a command")
            self.outbox.send(error_frame(BadFrame("internal", SOMETHING_WRONG)))
            return None

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


# Remix buttons elsewhere open a reply box; here a reply to the clip does the same.
REMIX_HINT = "Press Reply under the clip and send /{command} <what should change> to remix it."


def toast_frame(text: str) -> Frame:
    """A short answer for the one tab that asked (the core's answer to a button press)."""
    return {"type": "toast", "text": text}

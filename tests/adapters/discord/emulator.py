"""A Discord REST API and gateway on 127.0.0.1 for the real discord.py to talk to.

It keeps every message it was asked to create (with their files), every interaction callback
and modal, and a log of what happened in order. Tests push interactions through the gateway and
wait on that log. Faults (a 429, an expired token) are queued per route pattern.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator_reactions import ReactionEvents
from tests.adapters.discord.payloads import Json
from tests.adapters.discord.routes import add_routes, reply

API = "/api/v10"
HEARTBEAT_MS = 41_250


@dataclass
class Fault:
    """Answer the next `times` requests whose "METHOD path" matches `pattern` with this."""

    pattern: str
    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class Event:
    kind: str
    message_id: str | None = None
    detail: Any = None


class Emulator(ReactionEvents):
    def __init__(self, *, upload_limit: int = 10 * 1024 * 1024) -> None:
        self.upload_limit = upload_limit
        # What interactions report as attachment_size_limit; the enforced limit when None.
        self.reported_limit: int | None = None
        # Called as events are recorded: lets a test act at an exact point of the exchange.
        self.hooks: dict[str, Callable[[Event], None]] = {}
        self.messages: dict[str, Json] = {}
        self.files: dict[str, bytes] = {}
        self.deleted: set[str] = set()
        self.events: list[Event] = []
        self.faults: list[Fault] = []
        self.commands: dict[str, Json] = {}
        self.originals: dict[str, str] = {}  # interaction token -> original message id
        # User ids whose DMs fail with 50007 (no shared server, or DMs turned off).
        self.refuses_dms: set[str] = set()
        # Server permissions per user id, as interactions report `member.permissions`; whoever
        # is not listed has the @everyone role's (no Manage Server).
        self.permissions: dict[str, int] = {}
        # Whether the channel is age-restricted, as its `nsfw` flag says.
        self.nsfw = False
        self._dm_users: dict[str, str] = {}  # DM channel id -> user id
        # Attachment id -> bytes, served at `cdn_url` (discord.py's Attachment.read gets them).
        self.uploads: dict[str, bytes] = {}
        # Files added to messages by edits (a status message's preview): (message id, name, bytes).
        self.edited_uploads: list[tuple[str, str, bytes]] = []
        self._changed = asyncio.Event()
        self._socket: web.WebSocketResponse | None = None
        self._sequence = 0
        self._runner: web.AppRunner | None = None
        self.base = ""

    # Lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._faults], client_max_size=64 * 1024 * 1024)
        add_routes(app, self)
        app.router.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return self.base + API

    @property
    def gateway_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/gateway"

    # What tests look at ---------------------------------------------------------------------

    def record(self, kind: str, message_id: str | None = None, detail: Any = None) -> None:
        event = Event(kind, message_id, detail)
        self.events.append(event)
        self._changed.set()
        if kind in self.hooks:
            self.hooks[kind](event)

    @property
    def size_limit(self) -> int:
        return self.upload_limit if self.reported_limit is None else self.reported_limit

    def of(self, kind: str) -> list[Event]:
        return [event for event in self.events if event.kind == kind]

    async def wait_for(self, kind: str, count: int = 1) -> list[Event]:
        async with asyncio.timeout(30):
            while len(self.of(kind)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.of(kind)

    async def first(self, kind: str, wanted: Callable[[Event], bool]) -> Event:
        """The first event of `kind` that satisfies `wanted`, waiting for it if need be."""
        async with asyncio.timeout(30):
            while True:
                for event in self.of(kind):
                    if wanted(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    def fail(self, pattern: str, status: int, body: Json, **kwargs: Any) -> None:
        self.faults.append(Fault(pattern, status, body, **kwargs))

    def add_message(self, message: Json, files: dict[str, bytes] | None = None) -> Json:
        self.messages[message["id"]] = message
        for data in (files or {}).values():
            self.files[message["id"]] = data
        return message

    def open_dm(self, user_id: str) -> str:
        for channel_id, user in self._dm_users.items():
            if user == user_id:
                return channel_id
        channel_id = str(p.snowflake())
        self._dm_users[channel_id] = user_id
        return channel_id

    def dm_user(self, channel_id: str) -> str | None:
        return self._dm_users.get(channel_id)

    def upload(self, data: bytes, filename: str = "selfie.mp4") -> Json:
        """An attachment as a person's upload: a command's `resolved.attachments` entry whose
        URL serves `data`."""
        attachment_id = str(p.snowflake())
        self.uploads[attachment_id] = data
        url = f"{self.base}/attachments/{attachment_id}/{filename}"
        return p.attachment(attachment_id, filename, len(data), url)

    # Gateway --------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: Json) -> None:
        assert self._socket is not None, "no client is connected to the gateway"
        self._sequence += 1
        await self._socket.send_json({"op": 0, "t": event, "s": self._sequence, "d": data})

    async def mark_nsfw(self, on: bool = True) -> None:
        """Someone marks the channel age-restricted: Discord tells connected clients with a
        CHANNEL_UPDATE, and later interactions carry the flag too."""
        self.nsfw = on
        await self.dispatch("CHANNEL_UPDATE", {**p.channel(), "nsfw": on})

    async def interact(self, interaction: Json) -> Json:
        self.remember_press(interaction)
        await self.dispatch("INTERACTION_CREATE", interaction)
        return interaction

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            data = json.loads(frame.data)
            if data["op"] == 1:  # heartbeat
                await socket.send_json({"op": 11})
            elif data["op"] == 2:  # identify
                self.record("identify", detail=data["d"].get("intents"))
                await self.dispatch("READY", p.ready(self.gateway_url))
                await self.dispatch("GUILD_CREATE", p.guild())
        return socket

    @web.middleware
    async def _faults(self, request: web.Request, handler: Any) -> web.StreamResponse:
        line = f"{request.method} {request.path}"
        for fault in self.faults:
            if fault.times > 0 and re.search(fault.pattern, line):
                fault.times -= 1
                self.record("fault", detail=(line, fault.status))
                return reply(fault.body, fault.status, fault.headers)
        response: web.StreamResponse = await handler(request)
        return response

"""A Telegram Bot API emulator: aiohttp on 127.0.0.1 (port 0) that records every call, keeps the
chats' messages, serves scripted updates through a parked getUpdates, and fails calls on request.

The real python-telegram-bot Application talks to it through TELEGRAM_API_BASE; nothing of PTB
is replaced.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token-that-must-never-be-logged"
BOT = {"id": 999, "is_bot": True, "first_name": "clipcrew", "username": "clipcrew_bot"}
GROUP = {"id": -100123, "type": "supergroup", "title": "Meme lab"}
ADA = {"id": 101, "is_bot": False, "first_name": "Ada", "username": "ada"}
BOB = {"id": 102, "is_bot": False, "first_name": "Bob", "username": "bob"}
CAROL = {"id": 103, "is_bot": False, "first_name": "Carol"}  # no username
# How long a test waits for a call before it fails.
WAIT_S = 30
_MENTION = re.compile(r"(?<![\w@])@\w+")

Json = dict[str, Any]


def private(user: Json) -> Json:
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


@dataclass
class Call:
    method: str
    params: Json
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    result: Any = None


class BotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.updates: list[Json] = []
        # While set, getUpdates answers at once: a bot that is stopping isn't kept waiting.
        self.draining = False
        self._failures: dict[str, list[tuple[int, Json]]] = {}
        self._messages: dict[tuple[int, int], Json] = {}
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # Serving ----------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_post(f"/bot{TOKEN}/{{method}}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        await self.drain(True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def drain(self, on: bool) -> None:
        self.draining = on
        async with self._changed:
            self._changed.notify_all()

    @property
    def api_base(self) -> str:
        return f"{self.url}/bot"

    @property
    def file_base(self) -> str:
        return f"{self.url}/file/bot"

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, files = await _read_params(request)
        except ConnectionResetError:  # a client that is shutting down hung up mid-request
            return web.Response(status=499)
        failures = self._failures.get(method)
        if failures:
            status, body = failures.pop(0)
            await self._record(Call(method, params, files, status))
            return web.json_response(body, status=status)
        if method == "getUpdates":
            await self._record(Call(method, params, files))
            return _ok(await self._get_updates(params))
        answer = getattr(self, f"_{_snake(method)}", None)
        result = answer(params) if answer else True
        await self._record(Call(method, params, files, result=result))
        return _ok(result)

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        if offset:  # like Telegram: an offset confirms every update before it, for good
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

        def ready() -> bool:
            return self.draining or any(u["update_id"] >= offset for u in self.updates)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            pass
        return [u for u in self.updates if u["update_id"] >= offset]

    # Bot API methods ---------------------------------------------------------------------------

    def _get_me(self, params: Json) -> Json:
        return {**BOT, "can_join_groups": True, "can_read_all_group_messages": False}

    def _send_message(self, params: Json) -> Json:
        return self._bot_message(params, text=params["text"])

    def _send_video(self, params: Json) -> Json:
        video = {
            "file_id": f"video-{len(self.calls)}",
            "file_unique_id": f"u-{len(self.calls)}",
            "width": int(params.get("width", 0)),
            "height": int(params.get("height", 0)),
            "duration": int(params.get("duration", 0)),
        }
        return self._bot_message(params, video=video, caption=params.get("caption", ""))

    def _edit_message_text(self, params: Json) -> Json:
        message = self._messages[(int(params["chat_id"]), int(params["message_id"]))]
        message["text"] = params["text"]
        return message

    # Scripting -----------------------------------------------------------------------------------

    def fail_next(self, method: str, status: int, *, retry_after: int | None = None) -> None:
        """The next call of `method` fails the way Telegram fails it."""
        description = {413: "Request Entity Too Large", 429: "Too Many Requests"}
        body: Json = {
            "ok": False,
            "error_code": status,
            "description": description.get(status, f"HTTP {status}"),
        }
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
            body["description"] += f": retry after {retry_after}"
        self._failures.setdefault(method, []).append((status, body))

    def compose(
        self,
        chat: Json,
        user: Json,
        text: str,
        *,
        reply_to: Json | None = None,
        entities: list[Json] | None = None,
    ) -> Json:
        """A message a person writes in a chat, kept so that replies can quote it."""
        message = self._message(chat, user, text=text, entities=_entities(text, entities or []))
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    async def say(self, chat: Json, user: Json, text: str, **kwargs: Any) -> Json:
        """A person writes in a chat, and the bot gets it through getUpdates."""
        message = self.compose(chat, user, text, **kwargs)
        await self.push({"message": message})
        return message

    async def press(self, user: Json, message: Json, data: str) -> None:
        """A person presses an inline button under `message`."""
        query = {
            "id": f"q{next(self._ids)}",
            "from": user,
            "message": message,
            "chat_instance": "ci",
            "data": data,
        }
        await self.push({"callback_query": query})

    async def push(self, update: Json) -> None:
        self.updates.append({"update_id": next(self._update_ids), **update})
        async with self._changed:
            self._changed.notify_all()

    # Looking ------------------------------------------------------------------------------------

    def of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    async def wait_for(self, method: str, count: int = 1) -> list[Call]:
        """Until `method` has succeeded `count` times; the deadline keeps a hang short."""
        async with asyncio.timeout(WAIT_S), self._changed:
            await self._changed.wait_for(lambda: len(self.of(method)) >= count)
        return self.of(method)

    def message(self, chat_id: int, message_id: int) -> Json:
        return self._messages[(chat_id, message_id)]

    def _bot_message(self, params: Json, **content: Any) -> Json:
        chat_id = int(params["chat_id"])
        chat = GROUP if chat_id == GROUP["id"] else {"id": chat_id, "type": "private"}
        message = self._message(chat, BOT, **content)
        # Telegram shows only inline keyboards on a message (ForceReply is a request, not markup).
        if "inline_keyboard" in params.get("reply_markup", {}):
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters")
        if reply and (chat_id, int(reply["message_id"])) in self._messages:
            message["reply_to_message"] = self._messages[(chat_id, int(reply["message_id"]))]
        return message

    def _message(self, chat: Json, user: Json, **content: Any) -> Json:
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **{k: v for k, v in content.items() if v not in (None, [])},
        }
        self._messages[(chat["id"], message["message_id"])] = message
        return message


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _snake(method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


async def _read_params(request: web.Request) -> tuple[Json, dict[str, bytes]]:
    """PTB sends form fields (nested objects as JSON strings) or multipart with file parts."""
    params: Json = {}
    files: dict[str, bytes] = {}
    if not request.can_read_body:
        return params, files
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[name] = value.file.read()
        elif isinstance(value, str) and value[:1] in ("{", "["):
            params[name] = json.loads(value)
        else:
            params[name] = value
    return params, files


def _entities(text: str, extra: list[Json]) -> list[Json]:
    """What Telegram marks up by itself: a leading /command and @mentions (UTF-16 offsets)."""
    found = list(extra)
    command = re.match(r"/\S+", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": _u16(command[0])})
    for match in _MENTION.finditer(text):
        offset = _u16(text[: match.start()])
        found.append({"type": "mention", "offset": offset, "length": _u16(match[0])})
    return sorted(found, key=lambda e: e["offset"])


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2

"""A Telegram Bot API emulator: aiohttp on 127.0.0.1 (port 0) that records every call, keeps the
chats' messages, serves scripted updates through a parked getUpdates, and fails calls on request.
Private chats behave like Telegram's: the bot may write to a person only after they wrote to it
(or `start`ed it), and files people send are served through getFile and the file route.

The real python-telegram-bot Application talks to it through TELEGRAM_API_BASE; nothing of PTB
is replaced.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from aiohttp import web

from tests.adapters.telegram.emulator_faults import Faults
from tests.adapters.telegram.emulator_media import NO_TEXT, Media
from tests.adapters.telegram.emulator_reactions import Reactions
from tests.adapters.telegram.emulator_wire import (
    ApiError,
    Call,
    Json,
    StoredFile,
    error_response,
    ok,
    read_params,
    snake,
    text_entities,
)

TOKEN = "123456:TEST-token-that-must-never-be-logged"
BOT: Json = {"id": 999, "is_bot": True, "first_name": "clipcrew", "username": "clipcrew_bot"}
GROUP: Json = {"id": -100123, "type": "supergroup", "title": "Meme lab"}
ADA: Json = {"id": 101, "is_bot": False, "first_name": "Ada", "username": "ada"}
BOB: Json = {"id": 102, "is_bot": False, "first_name": "Bob", "username": "bob"}
CAROL: Json = {"id": 103, "is_bot": False, "first_name": "Carol"}  # no username
# How long a test waits for a call before it fails.
WAIT_S = 30
# getFile refuses larger files on the public Bot API.
MAX_DOWNLOAD_BYTES = 20 * 1000 * 1000
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"


def private(user: Json) -> Json:
    names: Json = {k: user[k] for k in ("first_name", "last_name", "username") if k in user}
    return {"id": user["id"], "type": "private", **names}


class BotApi(Reactions, Media, Faults):
    def __init__(self) -> None:
        Reactions.__init__(self)
        Media.__init__(self)
        Faults.__init__(self)
        self.calls: list[Call] = []
        self.updates: list[Json] = []
        # While set, getUpdates answers at once: a bot that is stopping isn't kept waiting.
        self.draining = False
        # The bot is a user too: getChatMember answers for it.
        self.users: dict[int, Json] = {u["id"]: u for u in (BOT, ADA, BOB, CAROL)}
        # Users who opened a private chat with the bot (and have not blocked it since).
        self.started: set[int] = set()
        self.blocked: set[int] = set()
        self.files: dict[str, StoredFile] = {}
        # (chat id, user id) -> "creator" or "administrator"; everyone else is a "member".
        self.roles: dict[tuple[int, int], str] = {}
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
        app.router.add_get(f"/file/bot{TOKEN}/{{path:.+}}", self._download)
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
            params, files = await read_params(request)
        except ConnectionResetError:  # a client that is shutting down hung up mid-request
            return web.Response(status=499)
        if method in self.slow:
            await self._record(Call(f"arrived:{method}", params, files))
            await asyncio.sleep(self.slow[method])
        fault = self._fault(method, files)
        if fault is not None:
            self._failures.setdefault(method, []).insert(0, fault)
        failures = self._failures.get(method)
        if failures:
            status, body = failures.pop(0)
            await self._record(Call(method, params, files, status))
            return web.json_response(body, status=status)
        if method in ("getUpdates", "setWebhook"):
            self.remember_allowed(params)
        if method == "getUpdates":
            await self._record(Call(method, params, files))
            return ok(await self._get_updates(params))
        answer = getattr(self, f"_{snake(method)}", None)
        self.files_in_call = files
        try:
            result = answer(params) if answer else True
        except ApiError as error:
            await self._record(Call(method, params, files, error.status, error.description))
            return error_response(error.status, error.description)
        await self._record(Call(method, params, files, result=result))
        return ok(result)

    async def _download(self, request: web.Request) -> web.Response:
        """`GET /file/bot<token>/<file_path>`: the bytes behind a getFile answer."""
        path = request.match_info["path"]
        found = [f for f in self.files.values() if f.file_path == path]
        await self._record(Call("download", {"file_path": path}, status=200 if found else 404))
        if not found:
            return error_response(404, "Not Found")
        return web.Response(body=found[0].data, content_type="application/octet-stream")

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

    def _stored(self, params: Json) -> Json:
        found = self._messages.get((int(params["chat_id"]), int(params["message_id"])))
        if found is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return found

    def _edit_message_text(self, params: Json) -> Json:
        message = self._stored(params)
        if "text" not in message:  # a photo or a video has a caption instead
            raise ApiError(400, NO_TEXT)
        message["text"] = params["text"]
        # Telegram drops an inline keyboard that the edit does not send again.
        if "inline_keyboard" in params.get("reply_markup", {}):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _get_chat_member(self, params: Json) -> Json:
        """Like Telegram: creator, administrator (with its rights) or plain member."""
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        status = self.roles.get((chat_id, user_id), "member")
        member: Json = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            rights = [
                *("manage_chat", "delete_messages", "manage_video_chats", "restrict_members"),
                *("promote_members", "change_info", "invite_users", "post_stories"),
                *("edit_stories", "delete_stories"),
            ]
            member |= {"can_be_edited": False, "is_anonymous": False}
            member |= {f"can_{right}": True for right in rights}
        return member

    def _get_file(self, params: Json) -> Json:
        stored = self.files.get(params["file_id"])
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    # Scripting -----------------------------------------------------------------------------------

    def open_private(self, user: Json) -> None:
        """The person opens a private chat with the bot, so the bot may write to them."""
        self.users[user["id"]] = user
        self.started.add(user["id"])
        self.blocked.discard(user["id"])

    def block(self, user: Json) -> None:
        """The person blocks the bot: Telegram then refuses messages to them with 403."""
        self.blocked.add(user["id"])

    def add_file(self, data: bytes, *, size: int | None = None) -> StoredFile:
        """A file someone sent; `size` is the stated file_size (default: len(data))."""
        n = next(self._ids)
        stored = StoredFile(f"file-{n}", f"uf-{n}", f"videos/file_{n}.mp4", data, size or len(data))
        self.files[stored.file_id] = stored
        return stored

    async def send_video(
        self,
        user: Json,
        data: bytes,
        *,
        kind: str = "video",
        size: int | None = None,
        chat: Json | None = None,
        mime_type: str = "video/mp4",
        duration: int = 4,
        caption: str | None = None,
    ) -> Json:
        """A person sends a video (`kind`: video, video_note or document) to the bot, in their
        private chat unless `chat` says otherwise, with an optional caption. Returns the
        message."""
        stored = self.add_file(data, size=size)
        media: Json = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if kind == "video":
            media |= {"width": 480, "height": 640, "duration": duration, "mime_type": mime_type}
        elif kind == "video_note":
            media |= {"length": 384, "duration": duration}
        else:
            assert kind == "document", kind
            media |= {"file_name": "selfie.mp4", "mime_type": mime_type}
        where = chat or private(user)
        message = self._message(where, user, caption=caption, **{kind: media})
        await self._from(user, where, message)
        return message

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
        message = self._message(chat, user, text=text, entities=text_entities(text, entities or []))
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    async def say(self, chat: Json, user: Json, text: str, **kwargs: Any) -> Json:
        """A person writes in a chat, and the bot gets it through getUpdates."""
        message = self.compose(chat, user, text, **kwargs)
        await self._from(user, chat, message)
        return message

    async def _from(self, user: Json, chat: Json, message: Json) -> None:
        if chat["type"] == "private":  # writing to the bot opens the chat for its answers
            self.open_private(user)
        await self.push({"message": message})

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
        if not self.deliverable(update):  # Telegram would never send it (see Reactions)
            self.withheld.append(update)
            return
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
        chat = GROUP if chat_id == GROUP["id"] else self._private_chat(chat_id)
        message = self._message(chat, BOT, **content)
        # Telegram shows only inline keyboards on a message (ForceReply is a request, not markup).
        if "inline_keyboard" in params.get("reply_markup", {}):
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters")
        if reply and (chat_id, int(reply["message_id"])) in self._messages:
            message["reply_to_message"] = self._messages[(chat_id, int(reply["message_id"]))]
        return message

    def _private_chat(self, user_id: int) -> Json:
        """The chat the bot may write to at `user_id`, or Telegram's refusal."""
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: chat not found")
        if user_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if user_id not in self.started:
            raise ApiError(403, CANT_INITIATE)
        return private(user)

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

"""The emulator's REST endpoints: what discord.py calls for login, command sync, interaction
callbacks (autocomplete choices too), webhook followups and edits, channel messages, DMs, and
a CDN serving the attachments people upload."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator_attachments import edited_attachments
from tests.adapters.discord.payloads import Json

if TYPE_CHECKING:
    from tests.adapters.discord.emulator import Emulator

API = "/api/v10"
EPHEMERAL = 64
LOADING = 128


class Rest:
    """One handler per endpoint; state lives on the emulator."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    async def me(self, request: web.Request) -> web.Response:
        return reply(p.BOT)

    async def application(self, request: web.Request) -> web.Response:
        return reply(p.application())

    async def sync(self, request: web.Request) -> web.Response:
        synced = []
        for command in await request.json():
            command = {**command, "id": str(p.snowflake()), "application_id": str(p.APP_ID)}
            command.setdefault("version", "1")
            command.setdefault("description", "")
            self.emu.commands[command["name"]] = command
            synced.append(command)
        self.emu.record("sync", detail=request.match_info.get("guild"))
        return reply(synced)

    async def callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        kind, data = body["type"], body.get("data") or {}
        token, interaction_id = request.match_info["token"], request.match_info["id"]
        ephemeral = bool(data.get("flags", 0) & EPHEMERAL)
        info: Json = {"id": interaction_id, "type": 2}
        if kind == 9:  # a modal
            self.emu.record("modal", detail=data)
            return reply({"interaction": info})
        if kind == 7:  # UPDATE_MESSAGE: the pressed message itself is edited
            return _edit(self.emu, self.emu.pressed[token], data, "update_message")
        if kind == 8:  # autocomplete choices
            self.emu.record("autocomplete", detail=data["choices"])
            return reply({"interaction": info})
        flags = data.get("flags", 0) | (LOADING if kind == 5 else 0)
        message = self.emu.add_message(
            p.message(p.CHANNEL_ID, data.get("content", ""), flags=flags)
        )
        self.emu.originals[token] = message["id"]
        self.emu.record("ack", message["id"], {"type": kind, "ephemeral": ephemeral})
        info.update(
            response_message_id=message["id"],
            response_message_loading=kind == 5,
            response_message_ephemeral=ephemeral,
        )
        return reply({"interaction": info, "resource": {"type": kind, "message": message}})

    async def edit_original(self, request: web.Request) -> web.Response:
        message_id = self.emu.originals[request.match_info["token"]]
        data, files = await _body(request)
        return _edit(self.emu, message_id, data, "edit_original", files)

    async def delete_original(self, request: web.Request) -> web.Response:
        message_id = self.emu.originals[request.match_info["token"]]
        self.emu.deleted.add(message_id)
        self.emu.record("delete_original", message_id)
        return web.Response(status=204)

    async def followup(self, request: web.Request) -> web.Response:
        data, files = await _body(request)
        if sum(len(f) for f in files.values()) > self.emu.upload_limit:
            self.emu.record("too_large", detail=sum(len(f) for f in files.values()))
            return error(413, 40005, "Request entity too large")
        flags = data.get("flags", 0)
        message = p.message(p.CHANNEL_ID, data.get("content", ""), flags=flags)
        message["components"] = data.get("components", [])
        message["attachments"] = _attachments(data, files)
        self.emu.add_message(message, files)
        self.emu.record("followup", message["id"], data)
        return reply(message)

    async def channel_post(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel"]
        if self.emu.dm_user(channel_id) in self.emu.refuses_dms:
            return error(403, 50007, "Cannot send messages to this user")
        data, files = await _body(request)
        if sum(len(f) for f in files.values()) > self.emu.upload_limit:
            self.emu.record("too_large", detail=sum(len(f) for f in files.values()))
            return error(413, 40005, "Request entity too large")
        message = p.message(int(channel_id), data.get("content", ""))
        message["components"] = data.get("components", [])
        message["attachments"] = _attachments(data, files)
        self.emu.add_message(message, files)
        self.emu.record("channel_message", message["id"], data)
        return reply(message)

    async def channel_history(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages: the newest messages first, as Discord lists them."""
        channel_id = request.match_info["channel"]
        limit = int(request.query.get("limit", "50"))
        listed = [
            message
            for message in reversed(self.emu.messages.values())
            if message["channel_id"] == channel_id and message["id"] not in self.emu.deleted
        ]
        self.emu.record("channel_history", detail=channel_id)
        return reply(listed[:limit])

    async def channel_edit(self, request: web.Request) -> web.Response:
        data, files = await _body(request)
        return _edit(self.emu, request.match_info["message"], data, "channel_edit", files)

    async def channel_delete(self, request: web.Request) -> web.Response:
        message_id = request.match_info["message"]
        if message_id not in self.emu.messages or message_id in self.emu.deleted:
            return error(404, 10008, "Unknown Message")
        self.emu.deleted.add(message_id)
        self.emu.record("channel_delete", message_id)
        return web.Response(status=204)

    async def open_dm(self, request: web.Request) -> web.Response:
        user_id = str((await request.json())["recipient_id"])
        channel_id = self.emu.open_dm(user_id)
        recipient = p.PEOPLE.get(user_id) or p.user(int(user_id), f"user{user_id}")
        self.emu.record("open_dm", channel_id, user_id)
        return reply(p.dm_channel(channel_id, recipient))

    async def user(self, request: web.Request) -> web.Response:
        """GET /users/{id}: any bot may look a user up by id (no intent needed)."""
        person = p.PEOPLE.get(request.match_info["id"])
        self.emu.record("get_user", detail=request.match_info["id"])
        if person is None:
            return reply({"message": "Unknown User", "code": 10013}, status=404)
        return reply(person)

    async def cdn(self, request: web.Request) -> web.Response:
        data = self.emu.uploads.get(request.match_info["id"])
        if data is None:
            return web.Response(status=404)
        self.emu.record("cdn_get", detail=request.match_info["id"])
        return web.Response(body=data, content_type="video/mp4")


def add_routes(app: web.Application, emu: Emulator) -> None:
    rest = Rest(emu)
    webhook = API + "/webhooks/{app}/{token}"
    app.router.add_get(API + "/users/@me", rest.me)
    app.router.add_get(API + "/oauth2/applications/@me", rest.application)
    app.router.add_put(API + "/applications/{app}/commands", rest.sync)
    app.router.add_put(API + "/applications/{app}/guilds/{guild}/commands", rest.sync)
    app.router.add_post(API + "/interactions/{id}/{token}/callback", rest.callback)
    app.router.add_patch(webhook + "/messages/@original", rest.edit_original)
    app.router.add_delete(webhook + "/messages/@original", rest.delete_original)
    app.router.add_post(webhook, rest.followup)
    app.router.add_post(API + "/channels/{channel}/messages", rest.channel_post)
    app.router.add_get(API + "/channels/{channel}/messages", rest.channel_history)
    app.router.add_patch(API + "/channels/{channel}/messages/{message}", rest.channel_edit)
    app.router.add_delete(API + "/channels/{channel}/messages/{message}", rest.channel_delete)
    app.router.add_post(API + "/users/@me/channels", rest.open_dm)
    app.router.add_get(API + "/users/{id:\\d+}", rest.user)
    app.router.add_get("/attachments/{id}/{filename}", rest.cdn)


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py needs exactly `application/json`; json_response would add a charset.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error(status: int, code: int, message: str) -> web.Response:
    return reply({"code": code, "message": message}, status)


def _edit(
    emu: Emulator, message_id: str, data: Json, kind: str, files: dict[str, bytes] | None = None
) -> web.Response:
    message = emu.messages.get(message_id)
    if message is None or message_id in emu.deleted:
        return error(404, 10008, "Unknown Message")
    message.update(
        content=data.get("content", message["content"]),
        components=data.get("components", message["components"]),
        flags=message["flags"] & ~LOADING,
        edited_timestamp=p.TIMESTAMP,
    )
    if "attachments" in data:
        # As Discord does: the listed attachments are what the message keeps or gets; an
        # existing one is named by its id, a new one by its index among the uploaded files.
        try:
            message["attachments"] = edited_attachments(emu, message, data, files or {})
        except ValueError:
            return error(400, 50035, "Invalid Form Body")
    emu.record(kind, message_id, data.get("content"))
    return reply(message)


def _attachments(data: Json, files: dict[str, bytes]) -> list[Json]:
    """The attachments a message shows, named as the payload's `attachments` describe them."""
    sizes = list(files.values())
    shown = []
    for index, described in enumerate(data.get("attachments", [])):
        attachment_id = str(p.snowflake())
        name = described.get("filename", f"file-{index}")
        url = f"https://cdn.discordapp.test/attachments/{attachment_id}/{name}"
        size = len(sizes[index]) if index < len(sizes) else 0
        shown.append(
            {"id": attachment_id, "filename": name, "size": size, "url": url, "proxy_url": url}
        )
    return shown


async def _body(request: web.Request) -> tuple[Json, dict[str, bytes]]:
    """A JSON body, or a multipart one: `payload_json` plus `files[n]` parts."""
    if not request.content_type.startswith("multipart/"):
        data: Json = await request.json() if request.can_read_body else {}
        return data, {}
    form = await request.post()
    files: dict[str, bytes] = {}
    data = {}
    for name, value in form.items():
        if name == "payload_json":
            data = json.loads(str(value))
        elif hasattr(value, "file"):
            files[name] = value.file.read()
    return data, files

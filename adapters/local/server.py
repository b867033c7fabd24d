"""The aiohttp application behind the local chat: the page, its socket, and the clip files."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web

from adapters.local.people import PLATFORM, People
from adapters.local.port import LocalPort
from adapters.local.room import Room
from adapters.local.session import Context, Session
from adapters.local.uploads import MAX_SELFIE_BYTES, receive_selfie
from adapters.serving import clip_response, listen, security_headers
from bot.ports import CorePort
from bot.types import ChatRef
from storage.blobs import Blobs

log = logging.getLogger(__name__)

LOCAL_CHAT = ChatRef(platform=PLATFORM, chat_id="lobby", title="Local chat")
STATIC = Path(__file__).parent / "static"
# Room for a 10,000-character message even when every character is JSON-escaped.
MAX_FRAME_BYTES = 256 * 1024
CONTEXT = web.AppKey("local_chat", Context)
BLOBS = web.AppKey[Blobs]("local_chat_blobs")
# Keys are content hashes, so a clip never changes under its URL.
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}

# The page loads nothing from elsewhere; saying so stops injected markup from doing it either.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(
    core: CorePort,
    blobs: Blobs,
    *,
    command: str,
    secret: bytes | None = None,
    max_selfie_bytes: int = MAX_SELFIE_BYTES,
    admin: str | None = None,
) -> web.Application:
    """The local chat as an aiohttp app; attaches its port to `core`.

    `secret` signs the buttons under notes; by default a fresh one per process, which is enough
    since the room's messages (and so its buttons) live no longer than the process.
    """
    secret = secret or secrets.token_bytes(32)
    room = Room(LOCAL_CHAT)
    people = People(admin=admin)
    core.attach(LocalPort(room, blobs, people=people, secret=secret))
    app = web.Application(middlewares=[security_headers(SECURITY_HEADERS)])
    app[CONTEXT] = Context(
        core=core,
        room=room,
        people=people,
        command=command,
        secret=secret,
        max_selfie_bytes=max_selfie_bytes,
    )
    app[BLOBS] = blobs
    app.router.add_get("/", _index)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/ws", _websocket)
    app.router.add_post("/selfie", _selfie)
    app.router.add_get("/clips/{key}", _clip)
    app.router.add_static("/static/", STATIC)
    app.on_shutdown.append(_close_sockets)
    return app


async def start_local_chat(
    core: CorePort,
    blobs: Blobs,
    *,
    host: str,
    port: int,
    command: str,
    secret: bytes | None = None,
    admin: str | None = None,
) -> tuple[web.AppRunner, str]:
    """Serve the local chat; returns the runner (call `cleanup()` to stop) and its URL.
    `port` 0 picks a free port, and the URL names the one bound. `admin` is the name whose
    person may use /admin (None: the first person in the room)."""
    app = create_app(core, blobs, command=command, secret=secret, admin=admin)
    runner, bound = await listen(app, host, port, name="the local chat")
    url = f"{bound}/"
    log.info("local chat: listening", extra={"url": url})
    return runner, url


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _clip(request: web.Request) -> web.StreamResponse:
    clip = await clip_response(
        request, request.app[BLOBS], request.match_info["key"], headers=IMMUTABLE
    )
    if clip is None:
        raise web.HTTPNotFound(text="no such clip")
    return clip


def _same_origin(request: web.Request, what: str) -> None:
    # Any web page the user visits could open a socket or post to localhost; only our own may.
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        log.warning(f"local chat: refused a cross-origin {what}", extra={"origin": origin[:200]})
        raise web.HTTPForbidden(text=f"cross-origin {what} refused")


async def _selfie(request: web.Request) -> web.StreamResponse:
    _same_origin(request, "upload")
    return await receive_selfie(request, request.app[CONTEXT])


async def _websocket(request: web.Request) -> web.StreamResponse:
    _same_origin(request, "WebSocket")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    await Session(request.app[CONTEXT], ws).run()
    return ws


async def _close_sockets(app: web.Application) -> None:
    # Open sockets would otherwise hold the shutdown until their heartbeat gives up.
    for ws in list(app[CONTEXT].sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

"""The aiohttp application behind the local chat: the page, its socket, and the clip files."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web

from adapters.local.people import PLATFORM, People
from adapters.local.port import LocalPort
from adapters.local.room import Room
from adapters.local.session import Context, Session
from adapters.local.uploads import MAX_SELFIE_BYTES, receive_selfie
from bot.ports import CorePort
from bot.types import ChatRef
from storage.blobs import Blobs
from storage.errors import BadBlobKey, NotFound

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

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    app = web.Application(middlewares=[_security_headers])
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
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        raise OSError(
            error.errno, f"the local chat cannot listen on {host}:{port}: {error.strerror}"
        ) from error
    bound = runner.addresses[0][1]
    url = f"http://{_browsable(host)}:{bound}/"
    log.info("local chat: listening", extra={"url": url})
    return runner, url


def _browsable(host: str) -> str:
    """A host a browser can open: a wildcard address is reachable here as loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    # A WebSocket has sent its headers already by the time it returns.
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
    return response


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _clip(request: web.Request) -> web.StreamResponse:
    blobs, key = request.app[BLOBS], request.match_info["key"]
    try:
        path = blobs.local_path(key)
        if path is None:  # blobs in a bucket: this server reads the clip and hands it on
            return _clip_bytes(request, await blobs.read(key))
    except (BadBlobKey, NotFound):
        raise web.HTTPNotFound(text="no such clip") from None
    if not path.is_file():
        raise web.HTTPNotFound(text="no such clip")
    # FileResponse answers Range requests, which is what lets the video seek.
    return web.FileResponse(path, headers=IMMUTABLE)


def _clip_bytes(request: web.Request, data: bytes) -> web.Response:
    """`data` whole, or the one byte range asked for (as FileResponse does for a file)."""
    headers = {**IMMUTABLE, "Accept-Ranges": "bytes"}
    if request.headers.get("Range") is None:
        return web.Response(body=data, content_type="video/mp4", headers=headers)
    try:
        span = range(len(data))[request.http_range]
    except ValueError:
        span = range(0)
    if not span:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{len(data)}"})
    headers["Content-Range"] = f"bytes {span.start}-{span.stop - 1}/{len(data)}"
    body = data[span.start : span.stop]
    return web.Response(status=206, body=body, content_type="video/mp4", headers=headers)


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

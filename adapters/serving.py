"""What the bot's two web servers (the feed pages and the local chat) share: listening on an
address a browser can open, security headers on every answer, and serving a stored clip."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from storage.blobs import Blobs
from storage.errors import BadBlobKey, NotFound

VIDEO = "video/mp4"


async def listen(
    app: web.Application, host: str, port: int, *, name: str
) -> tuple[web.AppRunner, str]:
    """Serve `app` on `host`:`port` (0 picks a free port). Returns the runner (`cleanup()`
    stops it) and `http://host:port` for the port bound, with a host a browser here can open.
    A port that is taken raises OSError naming `name` and the address."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        raise OSError(
            error.errno, f"{name} cannot listen on {host}:{port}: {error.strerror}"
        ) from error
    return runner, f"http://{browsable(host)}:{runner.addresses[0][1]}"


def browsable(host: str) -> str:
    """A host a browser can open: a wildcard address is reachable here as loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def security_headers(headers: Mapping[str, str]) -> Middleware:
    """A middleware that adds `headers` to every answer."""

    @web.middleware
    async def add_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        # A WebSocket has sent its headers already by the time it returns.
        if not response.prepared:
            response.headers.update(headers)
        return response

    return add_headers


async def clip_response(
    request: web.Request, blobs: Blobs, key: str, *, headers: Mapping[str, str]
) -> web.StreamResponse | None:
    """The clip stored under `key`, with `headers` (its caching), whole or the byte range asked
    for, which is what lets a browser's video seek; None when there is no such clip."""
    try:
        path = blobs.local_path(key)
        if path is None:  # blobs in a bucket: this server reads the clip and hands it on
            return _clip_bytes(request, await blobs.read(key), headers)
    except (BadBlobKey, NotFound):
        return None
    if not path.is_file():
        return None
    # FileResponse answers Range requests itself.
    return web.FileResponse(path, headers={**headers, "Content-Type": VIDEO})


def _clip_bytes(request: web.Request, data: bytes, headers: Mapping[str, str]) -> web.Response:
    """`data` whole, or the one byte range asked for (as FileResponse does for a file)."""
    answer = {**headers, "Accept-Ranges": "bytes"}
    if request.headers.get("Range") is None:
        return web.Response(body=data, content_type=VIDEO, headers=answer)
    try:
        span = range(len(data))[request.http_range]
    except ValueError:
        span = range(0)
    if not span:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{len(data)}"})
    answer["Content-Range"] = f"bytes {span.start}-{span.stop - 1}/{len(data)}"
    body = data[span.start : span.stop]
    return web.Response(status=206, body=body, content_type=VIDEO, headers=answer)

"""The feed's web server: aiohttp on its own listener, jinja2 templates, a little JavaScript.

Every page and clip file lives under `/f/<token>/`, and the token (bot.feed_links) says which
chat and until when: a tampered or expired one gets 403, a clip of another chat or a deleted one
404. Nothing else answers here but `/healthz` and the pages' own stylesheet and script under
`/static/`; the local chat is a different listener altogether.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jinja2
from aiohttp import web

from adapters.feed.config import FeedConfig
from adapters.feed.pages import SORT_NAMES, clip_file, clip_view, feed_view, page_of, sort_of
from adapters.serving import clip_response, listen, security_headers
from bot.feed_links import BadLink, FeedAccess, FeedLinks
from storage.blobs import Blobs
from storage.db import Database

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC_FILES = frozenset({"feed.css", "feed.js"})

# The pages load nothing from elsewhere. No referrer: the link's token is in every URL here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; "
        "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
# Checked on every request, so a deleted clip stops playing at once: nothing may keep a copy.
NO_STORE = {"Cache-Control": "no-store"}


class FeedServer:
    def __init__(self, config: FeedConfig, db: Database, blobs: Blobs, links: FeedLinks) -> None:
        self.config = config
        self.db = db
        self.blobs = blobs
        self.links = links
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def render(
        self, request: web.Request, name: str, status: int = 200, **values: object
    ) -> web.Response:
        # Links are relative, so the pages work under any prefix a reverse proxy gives them.
        static = "../" * (request.path.count("/") - 1) + "static/"
        template = self.templates.get_template(name)
        html = template.render(command=self.config.command, static=static, **values)
        return web.Response(text=html, status=status, content_type="text/html", headers=NO_STORE)

    def access(self, request: web.Request) -> FeedAccess:
        try:
            return self.links.verify(request.match_info["token"])
        except BadLink as error:
            log.info("feed: refused a link", extra={"reason": str(error)[:80]})
            raise web.HTTPForbidden(
                text=self.render(request, "refused.html", 403, reason=str(error), root="").text,
                content_type="text/html",
                headers=SECURITY_HEADERS,
            ) from None

    def missing(self, request: web.Request) -> web.HTTPNotFound:
        return web.HTTPNotFound(
            text=self.render(request, "missing.html", 404, root="").text,
            content_type="text/html",
            headers=SECURITY_HEADERS,
        )


FEED = web.AppKey("feed", FeedServer)


def create_app(config: FeedConfig, db: Database, blobs: Blobs, links: FeedLinks) -> web.Application:
    app = web.Application(middlewares=[security_headers(SECURITY_HEADERS)])
    app[FEED] = FeedServer(config, db, blobs, links)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/f/{token}", _slash)
    app.router.add_get("/f/{token}/", _feed)
    app.router.add_get(r"/f/{token}/clip/{clip_id:\d{1,12}}", _clip)
    app.router.add_get(r"/f/{token}/video/{clip_id:\d{1,12}}", _video)
    # The stylesheet and script: the same for everyone, so no link is needed for them.
    app.router.add_get("/static/{name}", _static)
    return app


async def start_feed(
    config: FeedConfig, db: Database, blobs: Blobs
) -> tuple[web.AppRunner, FeedLinks, str]:
    """Serve the feed pages; returns the runner (`cleanup()` stops it), the link signer (with
    the public address, or the bound one when none is set) and the bound address."""
    links = FeedLinks(secret=config.secret, ttl_s=config.link_ttl_s)
    app = create_app(config, db, blobs, links)
    runner, bound = await listen(app, config.host, config.port, name="the feed pages")
    public = (config.public_url or bound).rstrip("/")
    links = FeedLinks(secret=config.secret, public_url=public, ttl_s=config.link_ttl_s)
    log.info("feed pages: listening", extra={"url": bound, "public_url": public})
    return runner, links, bound


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _slash(request: web.Request) -> web.StreamResponse:
    # The pages link relative to the token's folder, so its address ends in a slash.
    request.app[FEED].access(request)
    raise web.HTTPFound(f"{request.match_info['token']}/")


async def _feed(request: web.Request) -> web.StreamResponse:
    server = request.app[FEED]
    access = server.access(request)
    sort, page = sort_of(request.query.get("sort")), page_of(request.query.get("page"))
    view = await feed_view(server.db, access, sort, page)
    return server.render(request, "feed.html", view=view, sorts=SORT_NAMES, root="")


async def _clip(request: web.Request) -> web.StreamResponse:
    server = request.app[FEED]
    access = server.access(request)
    view = await clip_view(server.db, access, int(request.match_info["clip_id"]))
    if view is None:
        raise server.missing(request)
    return server.render(request, "clip.html", view=view, root="../")


async def _video(request: web.Request) -> web.StreamResponse:
    server = request.app[FEED]
    access = server.access(request)
    key = await clip_file(server.db, access, int(request.match_info["clip_id"]))
    if key is None:
        raise server.missing(request)
    clip = await clip_response(request, server.blobs, key, headers=NO_STORE)
    if clip is None:
        raise server.missing(request)
    return clip


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise request.app[FEED].missing(request)
    return web.FileResponse(HERE / "static" / name, headers={"Cache-Control": "no-cache"})

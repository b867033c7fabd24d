"""The feed pages over HTTP, started by clipcrew's own wiring: signed links open their chat's
feed, sorting orders it, a clip page shows its chain; a tampered or expired link gets 403,
another chat's clip 404, and a deleted clip is gone from the pages and its file at once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.feed_commands import React, ShowFeed
from bot.feed_links import FeedLinks
from bot.replies import Note
from bot.types import ChatRef, ChatUser, MessageRef
from clipcrew.app import Services, start_services, stop_services
from storage.models import Clip
from tests.factories import small_settings
from tests.feed_rows import posted_clip

CHAT = ChatRef("local", "lobby", "Local chat")
OTHER = ChatRef("local", "elsewhere", "Another room")
ADA = ChatUser("local", "u-ada", "Ada", "ada")
BOB = ChatUser("local", "u-bob", "Bob", "bob")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    running = await start_services(small_settings(tmp_path))
    yield running
    await stop_services(running)


@pytest.fixture
async def http(services: Services) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def clip_with_file(services: Services, chat: ChatRef, prompt: str, **kw: object) -> int:
    key = await services.blobs.put(f"video of {prompt}".encode(), "mp4")
    return await posted_clip(services.db, chat, ADA, prompt, blob_key=key, **kw)  # type: ignore[arg-type]


def link(services: Services, chat: ChatRef = CHAT, *, now: float | None = None) -> str:
    links: FeedLinks = services.core.deps.feed_links
    token = links.token(chat, ADA, now=now)
    return f"{links.public_url}/f/{token}/"


def order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="card[^"]*" id="clip-(\d+)"', html)]


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


async def test_feed_asks_for_a_link_from_the_chat_and_it_opens(
    services: Services, http: aiohttp.ClientSession
) -> None:
    assert services.feed_url is not None and services.feed_url != services.local_chat_url
    first = await clip_with_file(services, CHAT, "a cat DJ", hours_old=2)
    await services.core.handle(ShowFeed("", ADA, CHAT))
    note = services.core.port("local").room.history()[-1]  # type: ignore[attr-defined]
    [url] = re.findall(r"http://127\.0\.0\.1:\d+/f/\S+/", note["text"])
    status, html = await get(http, url)
    assert status == 200 and order(html) == [first]
    assert f"/remix {first} " in html and "a cat DJ" in html and 'class="author">@ada<' in html
    async with http.get(url) as response:
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # The local chat is not served here, nor anything without a link.
    base = services.feed_url
    for path in ("/", "/ws", "/static/app.js", "/static/index.html", "/clips/x", "/f/"):
        assert (await get(http, base + path))[0] == 404


async def test_sorting_and_the_clip_page_with_its_remix_tree(
    services: Services, http: aiohttp.ClientSession
) -> None:
    old_hit = await clip_with_file(services, CHAT, "old hit", hours_old=3)
    fresh = await clip_with_file(services, CHAT, "fresh", hours_old=1)
    remix = await clip_with_file(
        services, CHAT, "old hit, remixed", hours_old=0.5, parent_id=old_hit
    )
    for who in ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"):
        await services.core.handle(
            React(ChatUser("local", who, who), CHAT, MessageRef(CHAT, f"clip-{old_hit}"), ("👍",))
        )
    url = link(services)
    assert order((await get(http, url + "?sort=new"))[1]) == [remix, fresh, old_hit]
    assert order((await get(http, url + "?sort=top"))[1]) == [old_hit, remix, fresh]
    assert order((await get(http, url + "?sort=hot"))[1])[0] == old_hit
    assert order((await get(http, url + "?sort=nonsense"))[1]) == order((await get(http, url))[1])

    status, page = await get(http, url + f"clip/{old_hit}")
    assert status == 200
    tree = page[page.index('class="tree"') :]
    assert f'href="../clip/{remix}"' in tree and "old hit, remixed" in tree
    assert f"/remix {old_hit} make it rain" in page
    status, child = await get(http, url + f"clip/{remix}")
    assert "↑ Remix of" in child and f'href="../clip/{old_hit}"' in child


async def test_tampered_expired_and_other_chats_links_are_refused(
    services: Services, http: aiohttp.ClientSession
) -> None:
    ours = await clip_with_file(services, CHAT, "ours")
    theirs = await clip_with_file(services, OTHER, "theirs")
    url = link(services)
    token = url.rstrip("/").rsplit("/", 1)[1]
    body, _, signature = token.partition(".")
    flipped = signature[:-1] + ("B" if signature[-1] == "A" else "A")
    base = services.feed_url
    for bad in (f"{body}.{flipped}", f"{body[:-2]}.{signature}", "nonsense", f"{body}."):
        assert (await get(http, f"{base}/f/{bad}/"))[0] == 403
        assert (await get(http, f"{base}/f/{bad}/video/{ours}"))[0] == 403
    expired = link(services, now=0)
    status, html = await get(http, expired)
    assert status == 403 and "expired" in html
    assert (await get(http, expired + f"video/{ours}"))[0] == 403
    # A link for this chat does not open the other chat's clip, nor its file.
    assert (await get(http, url + f"clip/{theirs}"))[0] == 404
    assert (await get(http, url + f"video/{theirs}"))[0] == 404
    assert order((await get(http, url))[1]) == [ours]
    assert order((await get(http, link(services, OTHER)))[1]) == [theirs]


async def test_a_deleted_clip_vanishes_and_its_file_stops_at_once(
    services: Services, http: aiohttp.ClientSession
) -> None:
    kept = await clip_with_file(services, CHAT, "kept")
    gone = await clip_with_file(services, CHAT, "gone")
    url = link(services)
    async with http.get(url + f"video/{gone}", headers={"Range": "bytes=0-4"}) as response:
        assert response.status == 206 and await response.read() == b"video"
        assert response.headers["Cache-Control"] == "no-store"
    async with services.db.transaction() as session:
        clip = await session.get(Clip, gone)
        assert clip is not None
        clip.deleted = True
        session.add(clip)
    assert order((await get(http, url))[1]) == [kept]
    assert (await get(http, url + f"video/{gone}"))[0] == 404
    assert (await get(http, url + f"clip/{gone}"))[0] == 404
    assert isinstance(await services.core.handle(ShowFeed("new", ADA, CHAT)), Note)


async def test_a_long_feed_comes_in_pages(services: Services, http: aiohttp.ClientSession) -> None:
    ids = [
        await posted_clip(services.db, CHAT, ADA, f"clip {n}", hours_old=40 - n) for n in range(33)
    ]
    url = link(services) + "?sort=new"
    first = (await get(http, url))[1]
    assert order(first) == ids[::-1][:30] and "page=2" in first and 'rel="prev"' not in first
    second = (await get(http, url + "&page=2"))[1]
    assert order(second) == ids[::-1][30:] and 'rel="next"' not in second
    assert order((await get(http, url + "&page=x"))[1]) == order(first)

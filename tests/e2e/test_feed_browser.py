"""The feed page in Debian's headless chromium (Playwright): a signed link opens the chat's
feed, its clips (real H.264 + AAC MP4s) play inline, sorting works, a clip's page shows its
remix tree; a tampered link, an expired one and another chat's clip are refused; a deleted clip
disappears. Screenshots are written beside the test's files for a person to look at."""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.feed_commands import React
from bot.feed_links import FeedLinks
from bot.types import ChatRef, ChatUser, MessageRef
from clipcrew.app import Services, start_services, stop_services
from storage.models import Clip
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.factories import small_settings
from tests.feed_rows import posted_clip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
async_api = pytest.importorskip("playwright.async_api", reason="the playwright package is missing")

CHAT = ChatRef("local", "lobby", "Local chat")
OTHER = ChatRef("local", "elsewhere", "Another room")
ADA = ChatUser("local", "u-ada", "Ada", "ada")
BOB = ChatUser("local", "u-bob", "Bob", "bob")


def tiny_clip(seed: int) -> bytes:
    """2 s of moving colour at 128x128, H.264 with an AAC tone: what the chats get, in small."""
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=24)
        video.width = video.height = 128
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=44100)
        ramp = np.linspace(0, 255, 128, dtype=np.uint8)
        for n in range(48):
            frame = np.zeros((128, 128, 3), np.uint8)
            frame[..., 0] = np.roll(ramp, n * 3 + seed * 40)[None, :]
            frame[..., 2] = (seed * 70) % 256
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        t = np.arange(44100 * 2) / 44100
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        for start in range(0, tone.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(
                tone[:, start : start + 1024], format="fltp", layout="mono"
            )
            chunk.rate = 44100
            container.mux(audio.encode(chunk))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return out.getvalue()


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    running = await start_services(small_settings(tmp_path))
    yield running
    await stop_services(running)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go (CLIPCREW_SHOTS to keep them somewhere else)."""
    folder = Path(os.environ.get("CLIPCREW_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def add(services: Services, chat: ChatRef, who: ChatUser, prompt: str, **kw: Any) -> int:
    data = await asyncio.to_thread(tiny_clip, len(prompt))
    key = await services.blobs.put(data, "mp4")
    return await posted_clip(services.db, chat, who, prompt, blob_key=key, **kw)


def cards(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="clip-(\d+)"', html)]


async def playing(page: Any, selector: str) -> dict[str, Any]:
    """Tap the video, then wait until it plays with sound and report its state."""
    await page.click(selector)
    await page.wait_for_function(
        f"""() => {{ const v = document.querySelector({selector!r});
                    return v && !v.paused && !v.muted && v.currentTime > 0.1; }}""",
        timeout=30_000,
    )
    state: dict[str, Any] = await page.evaluate(
        f"""() => {{ const v = document.querySelector({selector!r});
                    return {{ ready: v.readyState, duration: v.duration, error: v.error,
                              muted: v.muted, width: v.videoWidth }}; }}"""
    )
    return state


async def test_the_feed_page_in_a_browser(services: Services, browser: Any, shots: Path) -> None:
    root = await add(services, CHAT, ADA, "a cat DJ at a rooftop party", hours_old=3)
    remix = await add(
        services, CHAT, BOB, "a cat DJ · remix: make it rain", parent_id=root, hours_old=0.5
    )
    fresh = await add(services, CHAT, BOB, "a frog on a unicycle")
    theirs = await add(services, OTHER, ADA, "another group's clip")
    for n in range(6):
        who = ChatUser("local", f"u-{n}", f"P{n}")
        await services.core.handle(React(who, CHAT, MessageRef(CHAT, f"clip-{root}"), ("👍",)))
    links: FeedLinks = services.core.deps.feed_links
    url = links.feed_url(CHAT, ADA)

    context = await browser.new_context(viewport={"width": 420, "height": 860})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = await page.goto(url)
    assert response.status == 200
    assert cards(await page.content()) == [root, fresh, remix]  # hot: 6 reactions lead

    first = f"#clip-{root} video"
    await page.wait_for_function(
        f"() => document.querySelector({first!r}).readyState >= 1", timeout=30_000
    )
    state = await playing(page, first)
    assert state["error"] is None and state["ready"] >= 2 and state["width"] == 128
    assert 1.5 < state["duration"] < 2.5
    await page.screenshot(path=str(shots / "feed-hot.png"), full_page=True)

    await page.click("nav.sorts >> text=New")
    await page.wait_for_url(re.compile(r"\?sort=new$"))
    assert cards(await page.content()) == [fresh, remix, root]
    await page.click("nav.sorts >> text=Top")
    await page.wait_for_url(re.compile(r"\?sort=top$"))
    assert cards(await page.content()) == [root, fresh, remix]

    await page.click(f"#clip-{root} .prompt a")
    await page.wait_for_url(re.compile(rf"/clip/{root}$"))
    tree = page.locator("ul.tree")
    assert await tree.locator(f'a[href="../clip/{remix}"]').count() == 1
    assert "make it rain" in await tree.inner_text()
    await page.click("details.remix summary")
    assert f"/remix {root} make it rain" in await page.locator(".command code").inner_text()
    state = await playing(page, f"#clip-{root} video")
    assert state["ready"] >= 2
    await page.screenshot(path=str(shots / "clip-page.png"), full_page=True)

    # Refused: a tampered link, an expired one; another chat's clip is not found.
    token = url.rstrip("/").rsplit("/", 1)[1]
    body, _, signature = token.partition(".")
    flipped = signature[:-1] + ("B" if signature[-1] == "A" else "A")
    tampered = await page.goto(url.replace(token, f"{body}.{flipped}"))
    assert tampered.status == 403
    await page.screenshot(path=str(shots / "tampered.png"))
    expired = FeedLinks(links.secret, links.public_url, ttl_s=1).token(CHAT, ADA, now=0)
    assert (await page.goto(url.replace(token, expired))).status == 403
    assert "expired" in await page.content()
    assert (await page.goto(f"{url}clip/{theirs}")).status == 404
    assert (await page.goto(f"{url}video/{theirs}")).status == 404

    # A deleted clip disappears from the page, and its file is no longer served.
    async with services.db.transaction() as session:
        clip = await session.get(Clip, fresh)
        assert clip is not None
        clip.deleted = True
        session.add(clip)
    await page.goto(url + "?sort=new")
    assert cards(await page.content()) == [remix, root]
    assert (await page.goto(f"{url}video/{fresh}")).status == 404
    assert not errors
    await context.close()

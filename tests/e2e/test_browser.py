"""What a newcomer does after the README's first command: `clipcrew serve`, open the page in a
browser, pick a name, type `/sora ...`, watch the progress, play the clip, and remix it.

The real CLI runs as a subprocess; Debian's chromium runs the page through Playwright.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS

# Long enough for a first render on a slow CI machine.
CLIP_TIMEOUT_MS = 120_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"clipcrew serve exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"clipcrew serve never became healthy:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("clipcrew-data")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        CLIPCREW_DATA_DIR=str(data),
        CLIPCREW_LOCAL_CHAT=f"127.0.0.1:{port}",
        CLIPCREW_CLIP_WIDTH="256",
        CLIPCREW_CLIP_HEIGHT="256",
        CLIPCREW_CLIP_SECONDS="2",
    )
    env.pop("DATABASE_URL", None)
    log = data / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "clipcrew.cli", "serve"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=data,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def person(browser: Any, server: str) -> Iterator[Any]:
    """A fresh browser context per person: its own sessionStorage, so its own identity."""
    contexts: list[Any] = []

    def open_as(name: str) -> Any:
        context = browser.new_context(viewport={"width": 900, "height": 900})
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors
        page.goto(server)
        page.get_by_label("Display name").fill(name)
        page.get_by_role("button", name="Join").click()
        sync_api.expect(page.get_by_role("textbox", name="Message or command")).to_be_enabled()
        return page

    yield open_as
    for context in contexts:
        context.close()


def send(page: Any, text: str) -> None:
    box = page.get_by_role("textbox", name="Message or command")
    box.fill(text)
    box.press("Enter")


def watch_progress(page: Any) -> None:
    """Record every percentage the status bar shows; the status message is deleted when the
    clip arrives, so looking afterwards would see nothing."""
    page.evaluate("""() => {
        window.seenProgress = [];
        const log = document.getElementById("log");
        new MutationObserver(() => {
            for (const node of log.querySelectorAll(".bar .pct")) {
                window.seenProgress.push(node.textContent);
            }
        }).observe(log, { childList: true, subtree: true });
    }""")


def wait_playable(page: Any, index: int) -> dict[str, Any]:
    """Wait until the index-th video has decoded data, and report its state."""
    page.wait_for_function(
        """(i) => { const v = document.querySelectorAll("video")[i];
                    return v && v.readyState >= 2 && v.duration > 0; }""",
        arg=index,
        timeout=CLIP_TIMEOUT_MS,
    )
    state: dict[str, Any] = page.evaluate(
        """(i) => { const v = document.querySelectorAll("video")[i];
                    return { ready: v.readyState, duration: v.duration,
                             error: v.error && v.error.code, src: v.currentSrc }; }""",
        index,
    )
    return state


def test_make_a_clip_watch_it_and_remix_it(person: Any, tmp_path: Path) -> None:
    ada = person("Ada")
    bob = person("Bob")
    expect = sync_api.expect

    watch_progress(ada)
    send(ada, '/sora a cat says "hello"')
    expect(ada.locator("article.msg[data-kind=chat]").last).to_contain_text("/sora a cat says")
    first = wait_playable(ada, 0)
    assert first["error"] is None and first["duration"] > 0
    seen = ada.evaluate("window.seenProgress")
    assert any(re.fullmatch(r"\d+%", text) for text in seen), f"no progress shown: {seen}"
    clips = ada.locator("article.msg[data-kind=clip]")
    caption = clips.first.locator("figcaption").inner_text()
    clip_id = re.match(r"#(\d+) ", caption)
    assert clip_id, caption
    assert "a cat says" in caption and "by @ada" in caption

    clips.first.get_by_role("button", name=re.compile("Reply")).click()
    expect(ada.locator("#replying")).to_have_text(re.compile(rf"Replying to #{clip_id[1]}"))
    send(ada, "/sora make it rain")
    second = wait_playable(ada, 1)
    assert second["error"] is None and second["src"] != first["src"]
    expect(clips.nth(1).locator("figcaption")).to_contain_text(f"(remix of #{clip_id[1]})")
    expect(ada.locator("#replying")).to_be_hidden()
    ada.screenshot(path=str(tmp_path / "ada.png"))

    # Bob, another person in the room, saw all of it as it happened.
    expect(bob.locator("article.msg[data-kind=clip]")).to_have_count(2, timeout=CLIP_TIMEOUT_MS)
    expect(bob.locator("figcaption").nth(1)).to_contain_text(f"(remix of #{clip_id[1]})")
    assert wait_playable(bob, 1)["src"] == second["src"]
    expect(bob.locator("article.msg[data-kind=chat]").first).to_contain_text("Ada")
    bob.screenshot(path=str(tmp_path / "bob.png"))
    assert ada.errors == [] and bob.errors == []


def test_usage_help_and_an_unknown_command(person: Any, tmp_path: Path) -> None:
    cleo = person("Cleo")
    expect = sync_api.expect
    send(cleo, "/sora")
    usage = cleo.locator(".notice[data-notice=usage]").last
    expect(usage).to_contain_text("Usage: /sora")
    send(cleo, "/dance")
    expect(cleo.locator(".notice[data-notice=usage]")).to_have_count(2)
    expect(cleo.locator(".notice").last).to_contain_text("/dance")
    cleo.screenshot(path=str(tmp_path / "cleo.png"))
    assert cleo.errors == []


def test_a_bad_name_is_explained(browser: Any, server: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server)
        page.get_by_label("Display name").fill("   ")
        page.get_by_role("button", name="Join").click()
        sync_api.expect(page.locator("#join-error")).to_contain_text("name")
        sync_api.expect(page.get_by_role("textbox", name="Message or command")).to_be_disabled()
    finally:
        context.close()

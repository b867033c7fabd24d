"""The production shape with real processes: `clipcrew bot` installed as if without the engine
extra, two render workers and a light worker, on the real Redis and PostgreSQL, driven through
the Telegram emulator. Several people's clips are each posted exactly once, a cameo enrollment
is verified by the light worker, and the bot process never maps a heavy library."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.adapters.telegram.emulator import ADA, BOB, CAROL, GROUP, private
from tests.adapters.telegram.steps import wait_until
from tests.engine.faces import clips
from tests.processes import (
    Shape,
    videos_by_command,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

# Shared objects of the heavy stacks, as they appear in /proc/<pid>/maps.
HEAVY_LIBRARIES = ("torch", "dlib", "onnxruntime", "insightface", "cv2", "opencv")


def mapped_libraries(pid: int) -> set[str]:
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[-1] for line in lines if line.split()[-1].startswith("/")}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_bot_and_workers_apart_post_each_clip_once_and_enroll(shape: Shape) -> None:
    await shape.start("bot", "bot", bare=True)
    await shape.start("worker-1", "worker")
    await shape.start("worker-2", "worker")
    await shape.start("light", "worker", "--light")
    api = shape.api

    # 1. Five clips from three people.
    people = [ADA, BOB, CAROL, ADA, BOB]
    commands = [
        await api.say(GROUP, who, f"/sora robots dance on a sunny beach, take {n}")
        for n, who in enumerate(people)
    ]
    async with asyncio.timeout(180):
        await api.wait_for("sendVideo", len(commands))
    await asyncio.sleep(2)  # room for a duplicate to show up, if there were one
    assert videos_by_command(api) == {c["message_id"]: 1 for c in commands}

    # 2. A cameo: the bot stores the selfie, a light worker verifies it, the bot records it.
    await api.say(private(ADA), ADA, "/cameo")
    await wait_until(api, "sendMessage", "say your code")
    started = time.monotonic()
    await api.send_video(ADA, clips.head_turn())
    await wait_until(api, "editMessageText", "Your cameo is ready")
    enroll_s = time.monotonic() - started

    # 3. The bot never loaded the heavy stack, and stayed small.
    bot = shape.processes["bot"]
    assert bot.returncode is None, shape.log("bot")
    heavy = {p for p in mapped_libraries(bot.pid) if any(h in p for h in HEAVY_LIBRARIES)}
    assert heavy == set()
    rss = rss_mb(bot.pid)
    print(
        f"\nproduction shape: enrollment through the light worker {enroll_s:.2f} s, "
        f"bot RSS after it {rss:.0f} MB"
    )
    assert "Traceback" not in shape.log("bot")

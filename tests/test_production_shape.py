"""The production shape with real processes: `clipcrew bot` installed as if without the engine
extra, two render workers and a light worker, on the real Redis and PostgreSQL, driven through
the Telegram emulator. Several people's clips are each posted exactly once, a cameo enrollment
is verified by the light worker, and the bot process never maps a heavy library."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from tests.adapters.telegram.emulator import ADA, BOB, CAROL, GROUP, TOKEN, BotApi, Call, private
from tests.conftest import POSTGRES_URL, REDIS_URL, delete_keys
from tests.engine.faces import clips

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

# What the `engine` extra installs: a bot installed without it cannot import any of these.
ENGINE_EXTRA = (
    "torch",
    "diffusers",
    "transformers",
    "accelerate",
    "piper",
    "dlib",
    "_dlib_pybind11",
    "face_recognition_models",
    "insightface",
    "onnxruntime",
    "onnx",
    "cv2",
    "c2pa",
    "nudenet",
    "sentence_transformers",
)
# Shared objects of the heavy stacks, as they appear in /proc/<pid>/maps.
HEAVY_LIBRARIES = ("torch", "dlib", "onnxruntime", "insightface", "cv2", "opencv")

# Loaded before anything else in the bot process (sitecustomize on PYTHONPATH): importing a
# package of the engine extra fails as it would where the extra is not installed.
NOT_INSTALLED = f"""
import sys
from importlib.abc import MetaPathFinder

class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {set(ENGINE_EXTRA)!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


@dataclass
class Shape:
    api: BotApi
    env: dict[str, str]
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    async def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        # The child writes its log; this process only hands it the file.
        log = open(Path(self.env["CLIPCREW_DATA_DIR"]) / f"{name}.log", "wb")  # noqa: ASYNC230, SIM115
        self.processes[name] = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clipcrew.cli",
            *args,
            env=self.env | (env or {}),
            stdout=log,
            stderr=log,
        )

    def log(self, name: str) -> str:
        return (Path(self.env["CLIPCREW_DATA_DIR"]) / f"{name}.log").read_text(errors="replace")

    async def stop(self) -> None:
        await self.api.drain(True)  # the bot's parked getUpdates lets go at once
        for process in self.processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A database of its own, for processes that cannot be told a schema."""
    name = f"shape_{uuid.uuid4().hex[:10]}"
    admin_url = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def shape(tmp_path: Path, database: str, redis_prefix: str) -> AsyncIterator[Shape]:
    api = BotApi()
    await api.start()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL,
        "CLIPCREW_REDIS_PREFIX": redis_prefix,
        "CLIPCREW_DATA_DIR": str(tmp_path),
        "CLIPCREW_SECRET": "shape-test-secret",
        "CLIPCREW_LOCAL_CHAT": "127.0.0.1:0",
        "CLIPCREW_FEED_LISTEN": "127.0.0.1:0",
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": api.api_base,
        "TELEGRAM_FILE_API_BASE": api.file_base,
        # Small, short clips: the shape is under test, not the renderer.
        "CLIPCREW_CLIP_WIDTH": "160",
        "CLIPCREW_CLIP_HEIGHT": "128",
        "CLIPCREW_CLIP_SECONDS": "1",
        "CLIPCREW_CLIP_FPS": "12",
        "HF_HUB_OFFLINE": "1",
    }
    made = Shape(api, env)
    try:
        yield made
    finally:
        await made.stop()
        await api.close()
        client = Redis.from_url(REDIS_URL)
        await delete_keys(client, redis_prefix)
        await client.aclose()


async def wait_until(api: BotApi, method: str, text: str, timeout_s: float = 120) -> Call:
    async with asyncio.timeout(timeout_s):
        seen = 0
        while True:
            calls = await api.wait_for(method, seen + 1)
            for call in calls[seen:]:
                if text in call.params.get("text", ""):
                    return call
            seen = len(calls)


def mapped_libraries(pid: int) -> set[str]:
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[-1] for line in lines if line.split()[-1].startswith("/")}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_bot_and_workers_apart_post_each_clip_once_and_enroll(
    shape: Shape, tmp_path: Path
) -> None:
    blocker = tmp_path / "no-engine-extra"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(NOT_INSTALLED)
    await shape.start("bot", "bot", env={"PYTHONPATH": str(blocker)})
    await shape.start("worker-1", "worker")
    await shape.start("worker-2", "worker")
    await shape.start("light", "worker", "--light")
    api = shape.api

    # 1. Five clips from three people (each may have two cooking at once).
    people = [ADA, BOB, CAROL, ADA, BOB]
    commands = [
        await api.say(GROUP, who, f"/sora a parrot number {n} juggles")
        for n, who in enumerate(people)
    ]
    async with asyncio.timeout(180):
        videos = await api.wait_for("sendVideo", len(commands))
    await asyncio.sleep(2)  # room for a duplicate to show up, if there were one
    videos = api.of("sendVideo", ok_only=False)
    answered = sorted(int(v.params["reply_parameters"]["message_id"]) for v in videos)
    assert answered == sorted(c["message_id"] for c in commands)

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
    heavy = {path for path in mapped_libraries(bot.pid) if any(h in path for h in HEAVY_LIBRARIES)}
    assert heavy == set()
    rss = rss_mb(bot.pid)
    print(
        f"\nproduction shape: enrollment through the light worker {enroll_s:.2f} s, "
        f"bot RSS after it {rss:.0f} MB"
    )
    assert "Traceback" not in shape.log("bot")

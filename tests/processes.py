"""Real clipcrew processes for the production-shape test and the fault suite: `clipcrew bot`,
render workers and a light worker started as the Procfile starts them, against the Telegram
emulator in the test process, a database of their own and a Redis prefix of their own; plus
private Redis and PostgreSQL servers that a test may stop and start again."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from tests.adapters.telegram.emulator import TOKEN, BotApi
from tests.conftest import POSTGRES_URL, delete_keys

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
# Loaded before anything else in a process (sitecustomize on PYTHONPATH): importing a package
# of the engine extra fails as it would where the extra is not installed.
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
# What each process logs once it is ready for work.
READY = {
    "bot": "telegram: started",
    "worker": "worker ready on queue",
    "light": "light worker ready on queue",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Shape:
    """The processes of one deployment, their environment and their logs."""

    api: BotApi
    env: dict[str, str]
    folder: Path
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    async def start(self, name: str, *args: str, bare: bool = False) -> None:
        """Start `clipcrew <args>` as `name` and wait until it says it is ready. `bare`: as if
        installed without the engine extra."""
        env = dict(self.env)
        if bare:
            blocker = self.folder / "no-engine-extra"
            blocker.mkdir(exist_ok=True)
            (blocker / "sitecustomize.py").write_text(NOT_INSTALLED)
            env["PYTHONPATH"] = str(blocker)
        log = self.log_path(name)
        with log.open("ab") as out:
            self.processes[name] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "clipcrew.cli", *args, env=env, stdout=out, stderr=out
            )
        kind = "light" if "--light" in args else args[0]
        await self.wait_for_log(name, READY[kind])

    def log_path(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def log(self, name: str) -> str:
        return self.log_path(name).read_text(errors="replace")

    async def wait_for_log(self, name: str, text: str, timeout_s: float = 120) -> None:
        async with asyncio.timeout(timeout_s):
            while text not in self.log(name):
                process = self.processes[name]
                if process.returncode is not None:
                    raise AssertionError(f"{name} exited:\n{self.log(name)[-3000:]}")
                await asyncio.sleep(0.1)

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)

    async def stop(self, name: str, timeout_s: float = 60) -> int:
        process = self.processes[name]
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            process.kill()
            return await process.wait()

    async def stop_all(self) -> None:
        await self.api.drain(True)  # the bot's parked getUpdates lets go at once
        for name in list(self.processes):
            await self.stop(name)
        await self.api.drain(False)


def base_env(
    api: BotApi, folder: Path, database: str, redis_url: str, prefix: str
) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLIPCREW_")},
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "CLIPCREW_REDIS_PREFIX": prefix,
        "CLIPCREW_DATA_DIR": str(folder),
        "CLIPCREW_SECRET": "process-test-secret",
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
        "CLIPCREW_MAX_JOBS_PER_USER": "50",
        "CLIPCREW_DAILY_CLIPS_PER_PERSON": "1000",
        "CLIPCREW_DAILY_CLIPS_PER_CHAT": "1000",
        "HF_HUB_OFFLINE": "1",
    }


async def new_database(server_url: str = POSTGRES_URL) -> str:
    """A database of its own on the server (processes cannot be told a schema)."""
    name = f"proc_{uuid.uuid4().hex[:10]}"
    admin_url = server_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(url: str) -> None:
    server, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def wipe_redis(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        await delete_keys(client, prefix)
    finally:
        await client.aclose()


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, on a free port, that it may stop and start again. It
    keeps nothing on disk: a restart loses every queue and stream, the worst case."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb as the postgres user), on a free port, that
    the test may restart mid-batch without disturbing anyone else's database."""

    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _bin(self, name: str) -> str:
        versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: p.name)
        return str(versions[-1] / "bin" / name)

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def create(self) -> None:
        # The cluster runs as the postgres user, who may not enter a test's private tmp_path.
        self.folder = Path(tempfile.mkdtemp(prefix="clipcrew-pg-"))
        shutil.chown(self.folder, "postgres")
        self._as_postgres(
            self._bin("initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres"
        )
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            self._bin("pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            self._bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"
        )

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _wait_for_port(port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def videos_by_command(api: BotApi) -> dict[int, int]:
    """How many clips were posted in reply to each command (message id → count)."""
    counts: dict[int, int] = {}
    for call in api.of("sendVideo"):
        replied = int(call.params["reply_parameters"]["message_id"])
        counts[replied] = counts.get(replied, 0) + 1
    return counts

"""The fault suite's deployment: the bot, two render workers and a light worker as real
processes (tests.processes), a batch of clips asked for through the Telegram emulator, and one
line of figures per fault (asked, delivered, duplicated, seconds to recover) printed for the
README's reliability table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.adapters.telegram.emulator import ADA, BOB, CAROL, GROUP, BotApi, Json
from tests.conftest import REDIS_URL
from tests.processes import (
    PrivatePostgres,
    PrivateRedis,
    Shape,
    base_env,
    drop_database,
    new_database,
    videos_by_command,
    wipe_redis,
)

PEOPLE = (ADA, BOB, CAROL)


@dataclass
class Deployment:
    shape: Shape
    database: str

    @property
    def api(self) -> BotApi:
        return self.shape.api

    async def start(self, *, workers: int = 2) -> None:
        await self.shape.start("bot", "bot", bare=True)
        for number in range(1, workers + 1):
            await self.shape.start(f"worker-{number}", "worker")
        await self.shape.start("light", "worker", "--light")

    async def ask(self, count: int, *, start: int = 0) -> list[Json]:
        """`count` clips from three people; returns their commands."""
        commands = []
        for n in range(start, start + count):
            text = f"/sora robots dance on a sunny beach, take {n}"
            commands.append(await self.api.say(GROUP, PEOPLE[n % len(PEOPLE)], text))
            # People type; a burst of twenty in one instant is another test (bench/).
            await asyncio.sleep(0.3)
        return commands

    async def called(self, method: str, count: int = 1, timeout_s: float = 180) -> None:
        """Wait until the platform has answered `method` `count` times in all (a loaded machine
        renders slowly; the emulator's own waits are short)."""
        async with asyncio.timeout(timeout_s):
            while len(self.api.of(method)) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.2)

    async def videos(self, count: int) -> None:
        await self.called("sendVideo", count)

    async def delivered(self, commands: list[Json], timeout_s: float = 240) -> dict[int, int]:
        """Wait until every command has its clip, then a little longer for duplicates; returns
        clips posted per command. A command answered "I couldn't check this prompt" (its prompt
        check timed out on a machine this busy, and nothing was queued) is typed again, as its
        person would; the clip of the retry counts for it."""
        latest = {c["message_id"]: c for c in commands}
        async with asyncio.timeout(timeout_s):
            while not all(c["message_id"] in videos_by_command(self.api) for c in latest.values()):
                for original, command in list(latest.items()):
                    if self._told_to_retry(command["message_id"]):
                        print(f"\nretrying a command whose prompt check timed out: {original}")
                        latest[original] = await self.api.say(
                            GROUP, command["from"], command["text"]
                        )
                await asyncio.sleep(0.2)
        await asyncio.sleep(3)
        counts = videos_by_command(self.api)
        return {original: counts.get(c["message_id"], 0) for original, c in latest.items()}

    def _told_to_retry(self, message_id: int) -> bool:
        return any(
            "couldn't check" in call.params.get("text", "")
            and int(call.params.get("reply_parameters", {}).get("message_id", 0)) == message_id
            for call in self.api.of("sendMessage")
        )

    async def query(self, sql: str, *args: object) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()


def report(fault: str, counts: dict[int, int], recover_s: float | None) -> None:
    asked = len(counts)
    delivered = sum(1 for n in counts.values() if n >= 1)
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    recovered = f"{recover_s:.1f} s" if recover_s is not None else "-"
    print(
        f"\nFAULT | {fault} | asked {asked} | delivered {delivered} | "
        f"duplicated {duplicated} | recovered in {recovered}"
    )


Build = Callable[..., Awaitable[Deployment]]


@pytest.fixture
async def deployment_on(tmp_path: Path, redis_prefix: str) -> AsyncIterator[Build]:
    """Build a deployment on the shared servers, or on `redis=`/`postgres=` URLs of a test's
    own; everything is stopped and removed afterwards."""
    made: list[tuple[Deployment, str, str]] = []
    api = BotApi()
    await api.start()

    async def build(
        *, redis_url: str = REDIS_URL, postgres_url: str | None = None, **env: str
    ) -> Deployment:
        database = await new_database(postgres_url) if postgres_url else await new_database()
        shape = Shape(api, base_env(api, tmp_path, database, redis_url, redis_prefix), tmp_path)
        shape.env.update(env)
        deployment = Deployment(shape, database)
        made.append((deployment, database, redis_url))
        return deployment

    try:
        yield build
    finally:
        for deployment, database, redis_url in made:
            await deployment.shape.stop_all()
            try:
                await drop_database(database)
                await wipe_redis(redis_url, redis_prefix)
            except (OSError, asyncpg.PostgresError):
                pass  # a private server already gone
        await api.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(tmp_path / "pg")
    server.create()
    yield server
    server.stop()
    server.remove()

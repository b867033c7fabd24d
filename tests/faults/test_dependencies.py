"""Redis and PostgreSQL going away mid-batch: commands are still answered, jobs wait in the
database, workers reconnect, and every clip arrives exactly once. Both servers are the test's
own (tests.processes), so restarting them disturbs no one else; this Redis keeps nothing on
disk, so a restart loses every queue and stream: the worst case."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import Build, report
from tests.processes import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_redis_then_postgres_restart_mid_batch(
    deployment_on: Build, private_redis: PrivateRedis, private_postgres: PrivatePostgres
) -> None:
    deployment = await deployment_on(
        redis_url=private_redis.url,
        postgres_url=private_postgres.url,
        CLIPCREW_CLIP_SECONDS="2",
        CLIPCREW_CLIP_WIDTH="320",
        CLIPCREW_CLIP_HEIGHT="240",
    )
    await deployment.start()
    api = deployment.api

    # 1. Redis dies mid-batch and comes back empty a few seconds later.
    commands = await deployment.ask(10)
    await deployment.videos(2)
    private_redis.kill()
    await asyncio.sleep(3)
    # Asked while Redis is away: answered at once, though the prompt check (a light task,
    # reached through Redis) cannot run, so nothing is queued and the person is told.
    [during] = await deployment.ask(1, start=10)
    await deployment.called("sendMessage", 1)
    async with asyncio.timeout(60):
        while not any(  # noqa: ASYNC110
            "couldn't check" in call.params.get("text", "")
            and int(call.params["reply_parameters"]["message_id"]) == during["message_id"]
            for call in api.of("sendMessage")
            if "reply_parameters" in call.params
        ):
            await asyncio.sleep(0.2)
    private_redis.start()
    back = time.monotonic()
    counts = await deployment.delivered(commands)
    recover_s = time.monotonic() - back - 3  # less the wait for duplicates
    report("Redis restarted empty mid-batch (10 clips)", counts, recover_s)
    assert counts == {c["message_id"]: 1 for c in commands}

    # 2. PostgreSQL restarts mid-batch.
    seen = len(api.of("sendVideo"))
    commands = await deployment.ask(10, start=20)
    await deployment.videos(seen + 2)
    await asyncio.to_thread(private_postgres.stop)
    await asyncio.sleep(3)
    await asyncio.to_thread(private_postgres.start)
    back = time.monotonic()
    counts = await deployment.delivered(commands)
    recover_s = time.monotonic() - back - 3
    report("PostgreSQL restarted mid-batch (10 clips)", counts, recover_s)
    assert counts == {c["message_id"]: 1 for c in commands}
    for name in ("bot", "worker-1", "worker-2", "light"):
        assert deployment.shape.processes[name].returncode is None, deployment.shape.log(name)

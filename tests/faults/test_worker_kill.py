"""A worker SIGKILLed mid-render: its job is taken over by the other worker within a minute
(with CLIPCREW_JOB_TIMEOUT at its default 600 s), and every clip arrives exactly once."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import Build, report

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_killed_workers_job_is_taken_over_and_every_clip_arrives_once(
    deployment_on: Build,
) -> None:
    # Longer clips than usual, so the kill lands mid-render.
    deployment = await deployment_on(
        CLIPCREW_CLIP_SECONDS="3", CLIPCREW_CLIP_WIDTH="320", CLIPCREW_CLIP_HEIGHT="240"
    )
    await deployment.start()
    victim = deployment.shape.processes["worker-1"]
    commands = await deployment.ask(20)

    async with asyncio.timeout(120):
        while True:
            rows = await deployment.query(
                "SELECT id FROM jobs WHERE state = 'RUNNING' AND worker LIKE $1",
                f"%-{victim.pid}-%",
            )
            if rows:
                break
            await asyncio.sleep(0.05)
    job_id = rows[0]["id"]
    deployment.shape.kill("worker-1")
    killed_at = time.monotonic()

    async with asyncio.timeout(120):
        while True:
            [row] = await deployment.query("SELECT state, worker FROM jobs WHERE id = $1", job_id)
            if row["state"] == "DONE" or (
                row["worker"] is not None and f"-{victim.pid}-" not in row["worker"]
            ):
                break
            await asyncio.sleep(0.1)
    takeover_s = time.monotonic() - killed_at

    counts = await deployment.delivered(commands)
    report("worker SIGKILLed mid-render (20 clips, 2 workers)", counts, takeover_s)
    assert counts == {c["message_id"]: 1 for c in commands}
    assert takeover_s < 60
    [attempts] = await deployment.query("SELECT attempts FROM jobs WHERE id = $1", job_id)
    assert attempts["attempts"] == 2

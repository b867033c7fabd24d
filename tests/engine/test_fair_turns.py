"""Fair share through the real job function: one heavy user's ten jobs and three other people's
single jobs, through the in-process queue and through arq. The three finish before the heavy
user's third, whatever order the queue carried them in."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from engine.channels import InProcessEvents
from engine.context import WorkerContext
from engine.jobs import run_job
from engine.queue_backends import ArqQueue, InProcessQueue
from engine.sketch import SketchBackend
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.fair_claims import claim_fairest
from storage.models import JobState
from storage.people import upsert_chat, upsert_user
from tests.conftest import REDIS_URL, delete_keys
from tests.engine.arq_worker import make_settings, run_burst
from tests.engine.harness import no_op_render


async def heavy_and_three(db: Database) -> tuple[list[str], list[str]]:
    """heavy queues ten clips, then ann, bob and cy one each; returns (heavy's, the three's)."""
    ids: dict[str, list[str]] = {}
    async with db.transaction() as session:
        chat = await upsert_chat(session, platform="test", platform_chat_id="room")
        assert chat.id is not None
        chat_id = chat.id
        people: dict[str, int] = {}
        for name in ("heavy", "ann", "bob", "cy"):
            user = await upsert_user(
                session, platform="test", platform_user_id=name, display_name=name, username=name
            )
            assert user.id is not None
            people[name] = user.id
    for name, count in (("heavy", 10), ("ann", 1), ("bob", 1), ("cy", 1)):
        for _ in range(count):
            job = job_rows.NewJob(
                prompt=f"{name}'s clip", seed=1, engine="sketch", author_id=people[name],
                chat_id=chat_id, duration_s=1.0, width=64, height=64, fps=8,
            )  # fmt: skip
            async with db.transaction() as session:
                await job_rows.insert_jobs(session, [job])
            ids.setdefault(name, []).append(job.id)
    return ids["heavy"], ids["ann"] + ids["bob"] + ids["cy"]


def context(db: Database, blobs: BlobStore, events: object) -> WorkerContext:
    return WorkerContext(
        db=db, blobs=blobs, events=events, backend=SketchBackend(),  # type: ignore[arg-type]
        render=no_op_render, owns_db=False,
    )  # fmt: skip


def assert_fair(done: list[str], heavy: list[str], three: list[str]) -> None:
    assert sorted(done) == sorted(heavy + three), "every job ran exactly once"
    third_heavy = done.index(heavy[2])
    assert all(done.index(job_id) < third_heavy for job_id in three), done


async def test_in_process_queue_serves_the_three_before_the_heavy_users_third(
    any_db: Database, blobs: BlobStore
) -> None:
    heavy, three = await heavy_and_three(any_db)
    events = InProcessEvents()
    ctx = context(any_db, blobs, events)
    queue = InProcessQueue(lambda job_id: run_job(ctx, job_id), concurrency=1)
    for job_id in heavy + three:  # the queue carries them first come, first served
        await queue.enqueue(job_id)
    await queue.join()
    await queue.close()
    assert_fair(await _done_order(events), heavy, three)


async def _done_order(events: InProcessEvents) -> list[str]:
    return [
        d.event.job_id for d in await events.read(block_ms=0, count=1000) if d.event.kind == "done"
    ]


@pytest.mark.redis
async def test_arq_serves_the_three_before_the_heavy_users_third(
    any_db: Database, blobs: BlobStore, redis_prefix: str, tmp_path: Path
) -> None:
    heavy, three = await heavy_and_three(any_db)
    settings = make_settings(redis_prefix, tmp_path)  # two jobs at once per worker
    events = InProcessEvents()
    queue = ArqQueue.from_url(REDIS_URL, prefix=redis_prefix)
    client = Redis.from_url(REDIS_URL)
    try:
        for job_id in heavy + three:
            assert await queue.enqueue(job_id)
        worker = await run_burst(settings, context(any_db, blobs, events))
    finally:
        await queue.close()
        await delete_keys(client, redis_prefix)
        await client.aclose()
    assert worker.jobs_complete == 13
    assert_fair(await _done_order(events), heavy, three)


async def test_two_workers_claiming_at_once_never_take_the_same_job(any_db: Database) -> None:
    heavy, three = await heavy_and_three(any_db)

    async def claim(turns: int) -> list[str]:
        async with any_db.transaction() as session:
            return [c.job.id for c in await claim_fairest(session, turns, worker="w")]

    first = await claim(3)
    second = await claim(3)
    assert not set(first) & set(second)
    # Fair order across both claims: the heavy user's first, then the three.
    assert first + second == [heavy[0], *three, heavy[1], heavy[2]]
    async with any_db.session() as session:
        states = {job_id: await job_rows.state_of(session, job_id) for job_id in first + second}
    assert set(states.values()) == {JobState.RUNNING}

"""The job queues: one behavioural suite over arq (real Redis, real burst Worker) and in-process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest
from arq.worker import Worker
from redis.asyncio import Redis

from engine.config import RedisConfig
from engine.queue_backends import (
    RUN_JOB,
    ArqQueue,
    InProcessQueue,
    QueueClosed,
    QueueUnavailable,
    arq_job_id,
    deserialize,
    make_queue,
    queue_name,
    redact_url,
    serialize,
)
from tests.conftest import REDIS_URL, delete_keys
from tests.engine.arq_worker import job_worker


@dataclass
class Recorder:
    """The job function under test: records ids, fails on some, can hold a job open."""

    calls: list[str] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, job_id: str) -> None:
        self.calls.append(job_id)
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if job_id in self.fail_on:
            raise RuntimeError(f"job {job_id} broke on purpose")


@dataclass
class Harness:
    """A queue and a way to run everything queued on it to the end."""

    queue: ArqQueue | InProcessQueue
    drain: Callable[[], Awaitable[None]]


@pytest.fixture
async def redis_client(redis_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await delete_keys(client, redis_prefix)
    await client.aclose()


async def run_arq_burst(prefix: str, job: Callable[[str], Awaitable[None]]) -> Worker:
    """A real arq Worker in burst mode with our serializer, as in engine.worker."""

    async def arq_job(ctx: dict[str, Any], job_id: str) -> None:
        await job(job_id)

    worker = await job_worker(REDIS_URL, prefix, arq_job)
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


@pytest.fixture(params=["inprocess", pytest.param("arq", marks=pytest.mark.redis)])
async def harness(
    request: pytest.FixtureRequest, redis_prefix: str, recorder: Recorder
) -> AsyncIterator[Harness]:
    if request.param == "inprocess":
        local = InProcessQueue(recorder, concurrency=2)
        yield Harness(queue=local, drain=local.join)
        await local.close()
        return
    client = Redis.from_url(REDIS_URL)
    queue = ArqQueue.from_url(REDIS_URL, prefix=redis_prefix)

    async def drain() -> None:
        await run_arq_burst(redis_prefix, recorder)

    yield Harness(queue=queue, drain=drain)
    await queue.close()
    await delete_keys(client, redis_prefix)
    await client.aclose()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# The behavioural suite: the same on both queues.


async def test_enqueue_runs_the_function_with_the_job_id(harness: Harness, recorder: Recorder):
    assert await harness.queue.enqueue("job-1") is True
    await harness.drain()
    assert recorder.calls == ["job-1"]


async def test_second_enqueue_of_a_queued_id_is_a_no_op(harness: Harness, recorder: Recorder):
    assert await harness.queue.enqueue("job-1") is True
    assert await harness.queue.enqueue("job-1") is False
    await harness.drain()
    assert recorder.calls == ["job-1"]


async def test_second_enqueue_of_a_running_id_is_a_no_op(harness: Harness, recorder: Recorder):
    recorder.gate = asyncio.Event()
    assert await harness.queue.enqueue("job-1") is True
    draining = asyncio.create_task(harness.drain())
    await asyncio.wait_for(recorder.started.wait(), 5)
    assert await harness.queue.enqueue("job-1") is False
    recorder.gate.set()
    await asyncio.wait_for(draining, 5)
    assert recorder.calls == ["job-1"]


async def test_a_finished_id_can_be_enqueued_again(harness: Harness, recorder: Recorder):
    # A job the bot re-enqueues after its run ended (e.g. a restart) must not be refused.
    assert await harness.queue.enqueue("job-1") is True
    await harness.drain()
    assert await harness.queue.enqueue("job-1") is True
    await harness.drain()
    assert recorder.calls == ["job-1", "job-1"]


async def test_a_failing_job_does_not_stop_the_next(harness: Harness, recorder: Recorder):
    recorder.fail_on = {"bad"}
    for job_id in ("bad", "good", "bad-neighbour"):
        assert await harness.queue.enqueue(job_id) is True
    await harness.drain()
    assert sorted(recorder.calls) == ["bad", "bad-neighbour", "good"]
    # A failed job is final (not retried), and its id is free again.
    assert await harness.queue.enqueue("bad") is True


async def test_many_jobs_each_run_once(harness: Harness, recorder: Recorder):
    ids = [f"job-{number}" for number in range(30)]
    for job_id in ids:
        assert await harness.queue.enqueue(job_id) is True
    await harness.drain()
    assert sorted(recorder.calls) == sorted(ids)


async def test_closed_queue_refuses_jobs(harness: Harness):
    await harness.queue.close()
    with pytest.raises(QueueClosed, match="job-1"):
        await harness.queue.enqueue("job-1")


async def test_empty_job_id_is_refused(harness: Harness):
    with pytest.raises(ValueError, match="non-empty"):
        await harness.queue.enqueue("")


# arq only.


@pytest.mark.redis
async def test_job_payload_is_msgpack_not_pickle(redis_client: Redis, redis_prefix: str):
    queue = ArqQueue.from_url(REDIS_URL, prefix=redis_prefix)
    await queue.enqueue("job-1")
    await queue.close()
    raw = await redis_client.get(f"arq:job:{arq_job_id(redis_prefix, 'job-1')}")
    assert isinstance(raw, bytes)
    # Every pickle since protocol 2 opens with the PROTO opcode 0x80; msgpack's map does not.
    assert raw[0] != 0x80
    payload = msgpack.unpackb(raw, raw=False)
    assert payload["f"] == RUN_JOB
    assert payload["a"] == ["job-1"]
    assert await redis_client.zscore(queue_name(redis_prefix), arq_job_id(redis_prefix, "job-1"))


@pytest.mark.redis
async def test_deployments_with_different_prefixes_do_not_collide(
    redis_client: Redis, redis_prefix: str
):
    first = ArqQueue.from_url(REDIS_URL, prefix=redis_prefix)
    second = ArqQueue.from_url(REDIS_URL, prefix=f"{redis_prefix}-other")
    try:
        assert await first.enqueue("job-1") is True
        assert await second.enqueue("job-1") is True
    finally:
        await first.close()
        await second.close()
        await delete_keys(redis_client, f"{redis_prefix}-other")


async def test_unreachable_redis_is_a_readable_error_without_the_password():
    queue = ArqQueue.from_url("redis://:hunter2@127.0.0.1:1/0", prefix="nowhere")
    try:
        with pytest.raises(QueueUnavailable) as caught:
            await queue.enqueue("job-1")
    finally:
        await queue.close()
    assert "unreachable" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_redact_url_hides_only_the_password():
    assert redact_url("redis://:s3cret@cache:6380/2") == "redis://:***@cache:6380/2"
    assert redact_url("rediss://bot:s3cret@cache/0") == "rediss://bot:***@cache/0"
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"


def test_serializer_round_trips_and_keeps_an_exception_as_text():
    assert deserialize(serialize({"a": ["x"], "t": 1})) == {"a": ["x"], "t": 1}
    assert deserialize(serialize({"r": ValueError("no")})) == {"r": "ValueError: no"}


# In-process only.


async def test_inprocess_logs_a_failure_with_the_job_id(caplog: pytest.LogCaptureFixture):
    recorder = Recorder(fail_on={"bad"})
    queue = InProcessQueue(recorder)
    with caplog.at_level(logging.ERROR, logger="engine.queue_backends"):
        await queue.enqueue("bad")
        await queue.join()
    await queue.close()
    (record,) = caplog.records
    assert record.job_id == "bad"  # type: ignore[attr-defined]
    assert record.exc_info is not None


async def test_inprocess_timeout_stops_the_job_not_the_worker(caplog: pytest.LogCaptureFixture):
    recorder = Recorder(gate=asyncio.Event())  # never set: the first job hangs
    queue = InProcessQueue(recorder, timeout_s=0.05)
    with caplog.at_level(logging.ERROR, logger="engine.queue_backends"):
        await queue.enqueue("slow")
        await queue.enqueue("next")
        await asyncio.wait_for(queue.join(), 5)
    await queue.close()
    assert recorder.calls == ["slow", "next"]
    assert [record.getMessage() for record in caplog.records] == [
        "in-process job slow timed out after 0.05s",
        "in-process job next timed out after 0.05s",
    ]


async def test_inprocess_close_cancels_a_running_job():
    recorder = Recorder(gate=asyncio.Event())
    queue = InProcessQueue(recorder, concurrency=3)
    await queue.enqueue("job-1")
    await asyncio.wait_for(recorder.started.wait(), 5)
    await asyncio.wait_for(queue.close(), 5)
    with pytest.raises(QueueClosed):
        await queue.enqueue("job-2")


def test_inprocess_needs_at_least_one_worker():
    with pytest.raises(ValueError, match="concurrency"):
        InProcessQueue(Recorder(), concurrency=0)


async def test_make_queue_picks_arq_only_with_a_redis_url(redis_prefix: str):
    embedded = make_queue(RedisConfig(url=None), Recorder())
    assert isinstance(embedded, InProcessQueue)
    redis = make_queue(RedisConfig(url=REDIS_URL, prefix=redis_prefix), Recorder())
    assert isinstance(redis, ArqQueue)
    assert redis.name == f"{redis_prefix}:queue"
    await redis.close()
    await embedded.close()

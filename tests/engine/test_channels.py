"""The event channels: the Redis stream on a real Redis, and the in-process queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from clipcrew.config import redis_config
from clipcrew.settings import Settings
from engine.channels import (
    EVENT_FIELD,
    GROUP,
    ChannelUnavailable,
    InProcessEvents,
    RedisStreamEvents,
    make_events,
    stream_name,
)
from engine.config import RedisConfig
from engine.events import JobEvent
from tests.conftest import REDIS_URL, delete_keys

Channel = InProcessEvents | RedisStreamEvents


def event(job_id: str, kind: str = "progress", fraction: float = 0.5) -> JobEvent:
    return JobEvent(job_id=job_id, kind=kind, stage="frames", fraction=fraction)  # type: ignore[arg-type]


@pytest.fixture
async def redis_client(redis_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await delete_keys(client, redis_prefix)
    await client.aclose()


@pytest.fixture
async def open_stream(
    redis_prefix: str, redis_client: Redis
) -> AsyncIterator[Callable[..., RedisStreamEvents]]:
    """Opens RedisStreamEvents on this test's stream; closes them all at the end."""
    opened: list[RedisStreamEvents] = []

    def open_(consumer: str = "bot-a", **options: object) -> RedisStreamEvents:
        channel = RedisStreamEvents.from_url(
            REDIS_URL, prefix=redis_prefix, consumer=consumer, **options
        )
        opened.append(channel)
        return channel

    yield open_
    for channel in opened:
        await channel.close()


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
async def channel(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[Channel]:
    if request.param == "inprocess":
        local = InProcessEvents()
        yield local
        await local.close()
        return
    # Opened here rather than through `open_stream`, so the in-process run never needs Redis.
    stream = RedisStreamEvents.from_url(REDIS_URL, prefix=redis_prefix, consumer="bot-a")
    yield stream
    await stream.close()
    client = Redis.from_url(REDIS_URL)
    await delete_keys(client, redis_prefix)
    await client.aclose()


# The behavioural suite: the same on both channels.


async def test_published_events_are_read_in_order(channel: Channel):
    sent = [event("j1", fraction=0.1), event("j1", fraction=0.2), event("j2", kind="done")]
    for one in sent:
        await channel.publish(one)
    got = await channel.read(block_ms=100)
    assert [delivered.event for delivered in got] == sent
    assert len({delivered.id for delivered in got}) == 3


async def test_read_waits_then_returns_nothing(channel: Channel):
    started = asyncio.get_running_loop().time()
    assert await channel.read(block_ms=50) == []
    assert asyncio.get_running_loop().time() - started >= 0.04


async def test_read_without_blocking(channel: Channel):
    assert await channel.read(block_ms=0) == []
    await channel.publish(event("j1"))
    assert [d.event.job_id for d in await channel.read(block_ms=0)] == ["j1"]


async def test_read_respects_count(channel: Channel):
    for number in range(5):
        await channel.publish(event(f"j{number}"))
    first = await channel.read(block_ms=100, count=2)
    rest = await channel.read(block_ms=100, count=10)
    assert [d.event.job_id for d in first + rest] == ["j0", "j1", "j2", "j3", "j4"]


async def test_a_blocked_read_wakes_on_publish(channel: Channel):
    reading = asyncio.create_task(channel.read(block_ms=5000))
    await asyncio.sleep(0.05)
    await channel.publish(event("j1"))
    got = await asyncio.wait_for(reading, 5)
    assert [d.event.job_id for d in got] == ["j1"]


async def test_acked_events_are_not_read_again(channel: Channel):
    await channel.publish(event("j1"))
    (delivered,) = await channel.read(block_ms=100)
    await channel.ack(delivered)
    assert await channel.read(block_ms=20) == []


async def test_count_below_one_is_refused(channel: Channel):
    with pytest.raises(ValueError, match="count"):
        await channel.read(count=0)


async def test_inprocess_keeps_track_of_unacked_events():
    channel = InProcessEvents()
    await channel.publish(event("j1"))
    await channel.publish(event("j2"))
    first, second = await channel.read(block_ms=10)
    await channel.ack(first)
    assert channel.unacked == 1
    await channel.ack(second)
    await channel.ack(second)  # twice is harmless
    assert channel.unacked == 0


# Redis stream only: durability.


async def pending(client: Redis, prefix: str) -> dict[str, int]:
    summary = await client.xpending(stream_name(prefix), GROUP)
    return {entry["name"]: int(entry["pending"]) for entry in summary["consumers"]}


@pytest.mark.redis
async def test_entries_are_json_events_on_a_capped_stream(
    open_stream: Callable[..., RedisStreamEvents], redis_client: Redis, redis_prefix: str
):
    channel = open_stream(maxlen=10)
    for number in range(300):
        await channel.publish(event(f"j{number}"))
    # MAXLEN ~ trims whole nodes only, so the stream stays near the cap, not at it.
    assert await redis_client.xlen(stream_name(redis_prefix)) < 300
    ((_, fields),) = await redis_client.xrevrange(stream_name(redis_prefix), count=1)
    assert JobEvent.from_json(fields[EVENT_FIELD]) == event("j299")


@pytest.mark.redis
async def test_events_published_before_the_bot_ever_read_are_kept(
    open_stream: Callable[..., RedisStreamEvents],
):
    # The worker may publish before any bot has created the consumer group.
    await open_stream("worker").publish(event("early"))
    got = await open_stream("bot-a").read(block_ms=100)
    assert [d.event.job_id for d in got] == ["early"]


@pytest.mark.redis
async def test_a_restart_rereads_unacked_events_only(
    open_stream: Callable[..., RedisStreamEvents], redis_client: Redis, redis_prefix: str
):
    before = open_stream("bot-a")
    for job_id in ("acked", "lost-1", "lost-2"):
        await before.publish(event(job_id))
    acked, *_ = await before.read(block_ms=100)
    await before.ack(acked)
    await before.close()  # the bot dies before acking the other two

    after = open_stream("bot-a")
    await after.publish(event("new"))
    replayed = await after.read(block_ms=100)
    assert [d.event.job_id for d in replayed] == ["lost-1", "lost-2"]
    for delivered in replayed:
        await after.ack(delivered)
    assert [d.event.job_id for d in await after.read(block_ms=100)] == ["new"]
    assert await pending(redis_client, redis_prefix) == {"bot-a": 1}


@pytest.mark.redis
async def test_a_new_consumer_takes_over_a_dead_ones_events(
    open_stream: Callable[..., RedisStreamEvents], redis_client: Redis, redis_prefix: str
):
    dead = open_stream("bot-old")
    await dead.publish(event("orphan"))
    assert len(await dead.read(block_ms=100)) == 1
    await dead.close()

    heir = open_stream("bot-new", claim_idle_ms=50)
    await asyncio.sleep(0.1)
    (claimed,) = await heir.read(block_ms=100)
    assert claimed.event.job_id == "orphan"
    await heir.ack(claimed)
    assert await pending(redis_client, redis_prefix) == {}


@pytest.mark.redis
async def test_events_not_yet_idle_are_left_to_their_consumer(
    open_stream: Callable[..., RedisStreamEvents],
):
    busy = open_stream("bot-busy")
    await busy.publish(event("mine"))
    assert len(await busy.read(block_ms=100)) == 1
    other = open_stream("bot-other", claim_idle_ms=60_000)
    assert await other.read(block_ms=20) == []


@pytest.mark.redis
async def test_claims_repeat_after_the_interval(
    open_stream: Callable[..., RedisStreamEvents],
):
    heir = open_stream("bot-new", claim_idle_ms=50, claim_every_s=0.0)
    assert await heir.read(block_ms=10) == []  # the first sweep finds nothing
    dead = open_stream("bot-old")
    await dead.publish(event("late-orphan"))
    assert len(await dead.read(block_ms=100)) == 1
    await asyncio.sleep(0.1)
    assert [d.event.job_id for d in await heir.read(block_ms=10)] == ["late-orphan"]


@pytest.mark.redis
async def test_malformed_entries_are_acked_and_skipped(
    open_stream: Callable[..., RedisStreamEvents],
    redis_client: Redis,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
):
    channel = open_stream("bot-a")
    stream = stream_name(redis_prefix)
    await channel.publish(event("before"))
    await redis_client.xadd(stream, {"other": "field"})
    await redis_client.xadd(stream, {EVENT_FIELD: "{not json"})
    await redis_client.xadd(stream, {EVENT_FIELD: '{"job_id": "x", "kind": "exploded"}'})
    await redis_client.xadd(stream, {EVENT_FIELD: '{"job_id": "x", "kind": "done", "extra": 1}'})
    await channel.publish(event("after"))
    with caplog.at_level(logging.WARNING, logger="engine.channels"):
        got = await channel.read(block_ms=100)
    assert [d.event.job_id for d in got] == ["before", "after"]
    assert len(caplog.records) == 4
    assert await pending(redis_client, redis_prefix) == {"bot-a": 2}


@pytest.mark.redis
async def test_a_deleted_stream_is_made_again(
    open_stream: Callable[..., RedisStreamEvents], redis_client: Redis, redis_prefix: str
):
    channel = open_stream("bot-a")
    assert await channel.read(block_ms=10) == []
    await redis_client.delete(stream_name(redis_prefix))
    assert await channel.read(block_ms=10) == []
    await channel.publish(event("j1"))
    assert [d.event.job_id for d in await channel.read(block_ms=100)] == ["j1"]


async def test_unreachable_redis_is_a_readable_error_without_the_password():
    channel = RedisStreamEvents.from_url("redis://:hunter2@127.0.0.1:1/0", prefix="x", consumer="c")
    try:
        with pytest.raises(ChannelUnavailable) as caught:
            await channel.publish(event("j1"))
    finally:
        await channel.close()
    assert "hunter2" not in str(caught.value)


async def test_make_events_gives_one_channel_for_both_ends(redis_prefix: str):
    sink, source = make_events(RedisConfig(url=None))
    assert sink is source and isinstance(sink, InProcessEvents)
    settings = Settings(_env_file=None, REDIS_URL=REDIS_URL, CLIPCREW_REDIS_PREFIX=redis_prefix)
    sink, source = make_events(redis_config(settings), consumer="bot-test")
    assert sink is source and isinstance(sink, RedisStreamEvents)
    assert sink.stream == f"{redis_prefix}:events" and sink.consumer == "bot-test"
    await sink.close()
    await source.close()  # closing both ends is fine

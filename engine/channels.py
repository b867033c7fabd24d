"""Event channels behind `engine.events`: a Redis stream in production, an asyncio queue embedded.

The Redis channel is durable: an event stays pending in the consumer group until the bot acks
it, so a bot that restarts (same consumer name) or a bot that takes over from a dead one (by
XAUTOCLAIM) still sees every event. Delivery may therefore repeat; the bot records deliveries
in storage and ignores repeats.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.config import RedisConfig
from engine.events import Delivered, EventSink, EventSource, JobEvent
from engine.queue_backends import redact_url

__all__ = [
    "DEFAULT_MAXLEN",
    "EVENT_FIELD",
    "GROUP",
    "ChannelError",
    "ChannelUnavailable",
    "EventChannel",
    "InProcessEvents",
    "RedisStreamEvents",
    "default_consumer",
    "make_events",
    "stream_name",
]

logger = logging.getLogger(__name__)

EVENT_FIELD = "event"
GROUP = "bot"
# Approximate cap on the stream: far more than any backlog of unread events, small in memory.
DEFAULT_MAXLEN = 10_000

RawEntry = tuple[Any, dict[Any, Any] | None]


class ChannelError(Exception):
    """Base of the channel's errors; `str(error)` is readable and never holds a password."""


class ChannelUnavailable(ChannelError):
    """The channel's Redis server could not be reached."""


class EventChannel(EventSink, EventSource, Protocol):
    """Both ends of a channel, and a way to let go of its connections."""

    async def close(self) -> None: ...


def stream_name(prefix: str) -> str:
    return f"{prefix}:events"


def default_consumer() -> str:
    """Stable across restarts on one host, so a restarted bot re-reads its own pending events.
    A bot on a new host takes the old one's events over by XAUTOCLAIM instead."""
    return f"bot-{socket.gethostname()}"


def _check_count(count: int) -> None:
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")


class InProcessEvents:
    """The embedded channel. Nothing survives the process, and nothing needs to: the worker
    runs in the same process. Sink and source must be this one object."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Delivered] = asyncio.Queue()
        self._last_id = 0
        self._unacked: dict[str, Delivered] = {}

    @property
    def unacked(self) -> int:
        """Events read but not yet acked."""
        return len(self._unacked)

    async def publish(self, event: JobEvent) -> None:
        self._last_id += 1
        self._queue.put_nowait(Delivered(id=str(self._last_id), event=event))

    async def read(self, *, block_ms: int = 1000, count: int = 100) -> list[Delivered]:
        """Up to `count` events, waiting up to `block_ms` for the first (0: do not wait)."""
        _check_count(count)
        batch: list[Delivered] = []
        if self._queue.empty() and block_ms > 0:
            try:
                async with asyncio.timeout(block_ms / 1000):
                    batch.append(await self._queue.get())
            except TimeoutError:
                return []
        while len(batch) < count and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        self._unacked.update((delivered.id, delivered) for delivered in batch)
        return batch

    async def ack(self, delivered: Delivered) -> None:
        self._unacked.pop(delivered.id, None)

    async def close(self) -> None:
        return None


class RedisStreamEvents:
    """Events on the Redis stream `<prefix>:events`, read through the consumer group `bot`.

    `read` first replays this consumer's own pending entries (read before a restart, never
    acked), then takes over entries idle longer than `claim_idle_ms` from any consumer (every
    `claim_every_s`), and otherwise reads new entries.
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str,
        consumer: str,
        maxlen: int = DEFAULT_MAXLEN,
        claim_idle_ms: int = 60_000,
        claim_every_s: float = 30.0,
    ) -> None:
        self._client = client
        self.stream = stream_name(prefix)
        self.consumer = consumer
        self._maxlen = maxlen
        self._claim_idle_ms = claim_idle_ms
        self._claim_every_s = claim_every_s
        self._group_ready = False
        # Where the replay of our own pending entries has got to; None once it is done.
        self._replay_cursor: str | None = "0"
        self._claim_cursor = "0-0"
        self._next_claim_at = 0.0  # monotonic seconds; 0 claims on the first read after replay
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, prefix: str, consumer: str, **options: Any) -> RedisStreamEvents:
        """A channel on the Redis at `url`; connects lazily, so needs no running event loop."""
        client = Redis.from_url(url, decode_responses=True)
        return cls(client, prefix=prefix, consumer=consumer, **options)

    async def publish(self, event: JobEvent) -> None:
        async with self._errors("publish an event"):
            await self._client.xadd(
                self.stream, {EVENT_FIELD: event.to_json()}, maxlen=self._maxlen, approximate=True
            )

    async def read(self, *, block_ms: int = 1000, count: int = 100) -> list[Delivered]:
        """Up to `count` events, waiting up to `block_ms` for new ones (0: do not wait)."""
        _check_count(count)
        async with self._errors("read events"):
            while self._replay_cursor is not None:
                batch = await self._replay(count)
                if batch:
                    return batch
            if time.monotonic() >= self._next_claim_at:
                batch = await self._claim(count)
                if batch:
                    return batch
            return await self._parse(await self._read_group(">", count, block_ms))

    async def ack(self, delivered: Delivered) -> None:
        async with self._errors("acknowledge an event"):
            await self._client.xack(self.stream, GROUP, delivered.id)

    async def close(self) -> None:
        # Sink and source are often this one object; both ends may close it.
        if not self._closed:
            self._closed = True
            await self._client.aclose()

    async def _replay(self, count: int) -> list[Delivered]:
        assert self._replay_cursor is not None
        entries = await self._read_group(self._replay_cursor, count, 0)
        if not entries:
            self._replay_cursor = None
            return []
        self._replay_cursor = _text(entries[-1][0])
        logger.info("replaying %d events read before a restart", len(entries))
        return await self._parse(entries)

    async def _claim(self, count: int) -> list[Delivered]:
        await self._ensure_group()
        try:
            answer = await self._client.xautoclaim(
                self.stream,
                GROUP,
                self.consumer,
                min_idle_time=self._claim_idle_ms,
                start_id=self._claim_cursor,
                count=count,
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            # Redis restarted without its data: make the stream and the group again.
            self._group_ready = False
            return []
        self._claim_cursor = _text(answer[0])
        if self._claim_cursor == "0-0":
            # A full sweep is done; the next starts after a pause.
            self._next_claim_at = time.monotonic() + self._claim_every_s
        entries: list[RawEntry] = answer[1]
        if entries:
            logger.warning("took over %d events another consumer left unacked", len(entries))
        return await self._parse(entries)

    async def _read_group(self, stream_id: str, count: int, block_ms: int) -> list[RawEntry]:
        await self._ensure_group()
        # BLOCK 0 means "forever" to Redis; here 0 means "do not wait".
        block = block_ms if block_ms > 0 else None
        try:
            answer = await self._client.xreadgroup(
                GROUP, self.consumer, {self.stream: stream_id}, count=count, block=block
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            # The stream was deleted under us (FLUSHALL, a cleanup): make it and the group again.
            self._group_ready = False
            return []
        if not answer:
            return []
        entries: list[RawEntry] = answer[0][1]
        return entries

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            # From "0": events the worker published before any bot ever started are read too.
            await self._client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._group_ready = True

    async def _parse(self, entries: Sequence[RawEntry]) -> list[Delivered]:
        batch: list[Delivered] = []
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            try:
                batch.append(Delivered(id=entry_id, event=_event(fields)))
            except (ValueError, TypeError) as error:
                # Acked so that one bad entry cannot stall the bot on every restart.
                logger.warning(
                    "skipping malformed event %s: %s", entry_id, error, extra={"entry": entry_id}
                )
                await self._client.xack(self.stream, GROUP, entry_id)
        return batch

    @asynccontextmanager
    async def _errors(self, action: str) -> AsyncIterator[None]:
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise ChannelUnavailable(
                f"cannot {action}: Redis is unreachable ({type(error).__name__})"
            ) from error


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _event(fields: dict[Any, Any] | None) -> JobEvent:
    """The entry's event, or ValueError/TypeError saying what is wrong with it."""
    texts = {_text(key): value for key, value in (fields or {}).items()}
    if EVENT_FIELD not in texts:
        raise ValueError(f"no {EVENT_FIELD!r} field (trimmed, or not ours)")
    return JobEvent.from_json(texts[EVENT_FIELD])


def make_events(
    redis: RedisConfig, *, consumer: str | None = None
) -> tuple[EventChannel, EventChannel]:
    """(sink, source): a Redis stream when `redis.url` is set, else one in-process queue. Call it
    once per process; the two ends are one object, so closing either closes both."""
    if redis.url:
        channel: EventChannel = RedisStreamEvents.from_url(
            redis.url, prefix=redis.prefix, consumer=consumer or default_consumer()
        )
        where = redact_url(redis.url)
        logger.info("events on redis stream %s at %s", stream_name(redis.prefix), where)
    else:
        channel = InProcessEvents()
    return channel, channel

"""Posting a finished clip again after a failure: per job, in the background, so one clip a
platform keeps refusing never holds up anyone else's.

The event stays unacknowledged while its retries run, so a bot that stops meanwhile reads it
again on restart (and the delivery claims keep that from posting twice). Delays grow, and a
platform's own `retry_after` (HTTP 429) is honoured when it is longer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.ports import PlatformBusy
from engine.events import Delivered, EventSource, JobEvent

log = logging.getLogger(__name__)

# About nine minutes in all: longer than a platform's usual bad spell, short enough that the
# person hears something the same evening.
POST_RETRY_DELAYS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
# How long a stopping bot waits for a post that is being sent right now.
STOP_WAIT_S = 30.0


def delay_before(attempt: int, error: BaseException) -> float:
    """Seconds to wait before try `attempt` + 1 after `error`."""
    delay = POST_RETRY_DELAYS[min(attempt, len(POST_RETRY_DELAYS) - 1)]
    if isinstance(error, PlatformBusy) and error.retry_after_s is not None:
        delay = max(delay, error.retry_after_s)
    return delay


@dataclass
class PostRetries:
    """Each failed post retried on its own task; `handle` posts, `give_up` tells the person."""

    handle: Callable[[JobEvent], Awaitable[None]]
    give_up: Callable[[JobEvent], Awaitable[None]]
    delays: tuple[float, ...] = POST_RETRY_DELAYS
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _waiting: set[str] = field(default_factory=set)

    def holds(self, delivered: Delivered) -> bool:
        """True while a retry owns this event (it may be read again meanwhile: a stream hands
        long-pending events out again)."""
        return delivered.id in self._tasks

    def start(self, source: EventSource, delivered: Delivered, error: BaseException) -> None:
        task = asyncio.create_task(self._retry(source, delivered, error), name="post-retry")
        self._tasks[delivered.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(delivered.id, None))

    async def _retry(self, source: EventSource, delivered: Delivered, error: BaseException) -> None:
        event = delivered.event
        for attempt in range(len(self.delays)):
            log.warning(
                "posting a clip failed; retrying",
                extra={
                    "job_id": event.job_id,
                    "attempt": attempt + 1,
                    "error": type(error).__name__,
                },
            )
            await self._wait(delivered.id, delay_before(attempt, error))
            try:
                await self.handle(event)
                break
            except Exception as failed:
                error = failed
        else:
            log.error("posting a clip failed for good", extra={"job_id": event.job_id})
            try:
                await self.give_up(event)
            except Exception:
                log.exception("could not tell the person", extra={"job_id": event.job_id})
        await source.ack(delivered)

    async def _wait(self, delivered_id: str, seconds: float) -> None:
        self._waiting.add(delivered_id)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._waiting.discard(delivered_id)

    async def stop(self) -> None:
        """Let a post being sent right now finish; drop the ones waiting to try again (their
        events stay unacknowledged and are read again at the next start)."""
        for delivered_id, task in list(self._tasks.items()):
            if delivered_id in self._waiting:
                task.cancel()
        pending = list(self._tasks.values())
        if pending:
            await asyncio.wait(pending, timeout=STOP_WAIT_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

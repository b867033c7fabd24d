"""Job events in, replies out: the pump that turns a worker's events into progress bars, posted
clips and failure notices, and the sweeps that keep a job from being lost (handing queued jobs
to the queue again, posting clips whose event was lost, expiring unanswered cameo requests)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import timedelta

from bot import approvals, consent_checks, delivery, metrics, queue_view
from bot.deletion import remove_clips
from bot.deps import Deps
from bot.ports import ChatPort, NoPort
from bot.replies import Failed
from bot.retries import PostRetries
from bot.tell import tell
from bot.types import MessageRef
from engine.events import Delivered, EventSource, JobEvent
from storage import deliveries
from storage import jobs as job_rows
from storage.batching import Batcher
from storage.errors import NotFound
from storage.models import utcnow

log = logging.getLogger(__name__)

# How often a failed clip post is tried again before the event is given up (seconds between).
CHANNEL_RETRY_S = 1.0
# How often queued jobs are handed to the queue again (after Redis was unreachable).
REQUEUE_S = 10.0
REQUEUE_AGE = timedelta(seconds=15)
# A clip finished this long ago without a post had its done event lost; older ones than the
# window are left alone (a bot started on an old database does not flood the chats).
UNPOSTED_GRACE = timedelta(seconds=30)
UNPOSTED_WINDOW = timedelta(hours=1)
MAX_KEPT_ROUTES = 10_000
# How often unanswered cameo requests are looked for; expiry is minutes, so a minute is close.
EXPIRY_SWEEP_S = 60.0


class Events:
    """The core's outgoing half. It shares the ports, the waiting messages and the status
    bookkeeping with the dispatch (`bot.service.Core`), which hands it each new job's route."""

    def __init__(
        self,
        deps: Deps,
        ports: dict[str, ChatPort],
        waiting: queue_view.WaitingMessages,
        remember: Batcher[tuple[str, MessageRef], None],
    ) -> None:
        self.deps = deps
        self._ports = ports
        self._waiting = waiting
        self._remember = remember
        self._throttle = delivery.ProgressThrottle()
        self._clock = queue_view.RenderClock(deps)
        self.books = delivery.Bookkeeping.over(deps)
        self.retries = PostRetries(handle=self.on_event, give_up=self._not_posted)
        self._idle = asyncio.Event()
        self._idle.set()
        # Where each job's replies go, kept from when its command came in (see on_event).
        self._routes: dict[str, delivery.Route] = {}

    def port(self, platform: str) -> ChatPort:
        try:
            return self._ports[platform]
        except KeyError:
            raise NoPort(f"no adapter for {platform!r} in this process") from None

    async def on_event(self, event: JobEvent) -> None:
        """Turn one job event into replies in the chat that asked."""
        route = self._routes.get(event.job_id)
        if route is None:  # a job from before a restart, or from another bot process
            try:
                route = await delivery.load_route(self.deps, event.job_id)
            except NotFound:
                log.warning("event for an unknown job", extra={"job_id": event.job_id})
                return
        port = self.port(route.chat.platform)
        if event.kind in ("started", "progress"):
            await self._progress(port, route, event)
            return
        if event.kind == "done":
            # Consent is checked once more right before the clip is shown.
            check = await consent_checks.recheck(self.deps, event.job_id)
            if check.withdrawn:
                await self._withhold(port, route, event, ", ".join(check.withdrawn))
                metrics.JOBS.labels(outcome="withheld").inc()
            else:
                with metrics.POST_SECONDS.labels(platform=route.chat.platform).time():
                    posted = await delivery.post_clip(
                        self.deps, self.books, port, route, event, featuring=check.featuring
                    )
                if posted:
                    metrics.JOBS.labels(outcome="posted").inc()
                if posted and check.featuring and event.clip_id is not None:
                    await approvals.tell_owners(self.deps, port, event.job_id, event.clip_id)
        elif event.kind == "failed":
            metrics.JOBS.labels(outcome="failed").inc()
            await delivery.show_failure(port, route, event)
        self._throttle.forget(event.job_id)
        self._clock.forget(event.job_id)
        self._routes.pop(event.job_id, None)
        await self._refresh_waiting()

    async def _progress(self, port: ChatPort, route: delivery.Route, event: JobEvent) -> None:
        """The bar with its stage, time left and preview frame; then, as the queue moved,
        the waiting messages' places and times."""
        eta_s = await self._clock.left(event.job_id, event.fraction)
        preview = await queue_view.preview_of(self.deps, event)
        moved = await delivery.show_progress(
            port, route, event, self._throttle, eta_s=eta_s, preview=preview
        )
        if moved is not None:
            self.keep_route(replace(route, status=moved))
            await self._remember((event.job_id, moved))
        await self._refresh_waiting(force=event.kind == "started")

    async def _refresh_waiting(self, *, force: bool = False) -> None:
        try:
            await self._waiting.refresh(force=force)
        except Exception:
            # A place in line is a courtesy; the events must keep flowing.
            log.exception("could not refresh the waiting messages")

    async def _withhold(
        self, port: ChatPort, route: delivery.Route, event: JobEvent, withdrawn: str
    ) -> None:
        """Consent went away between the render and the post: the clip is deleted unseen."""
        if event.clip_id is not None:
            await remove_clips(self.deps, [event.clip_id], self._ports)
        await tell(port, route.where, consent_checks.withdrawn_failure(withdrawn, event.job_id))

    def keep_route(self, route: delivery.Route) -> None:
        self._routes[route.job_id] = route
        if len(self._routes) > MAX_KEPT_ROUTES:  # jobs whose end never came: drop the oldest
            del self._routes[next(iter(self._routes))]

    async def run(self, source: EventSource) -> None:
        """Consume job events until cancelled. An event is acknowledged once handled, so a
        restart re-reads whatever was in hand; posting is idempotent, so nothing shows twice.

        Cancel it through `stop()`: a batch in hand is finished first, since cancelling
        in the middle of a database call leaves the connection half-used."""
        while True:
            try:
                batch = await source.read(block_ms=1000)
            except Exception:
                # Redis restarting, a network blip: events wait in the stream; so do we.
                log.exception("reading job events failed; retrying")
                await asyncio.sleep(CHANNEL_RETRY_S)
                continue
            self._idle.clear()
            try:
                await self._consume_batch(source, batch)
            except Exception:
                # An acknowledgement lost to a Redis blip: the event is read again later, and
                # handling it twice shows nothing twice.
                log.exception("handling job events failed; carrying on")
            finally:
                self._idle.set()

    async def stop(self, consumer: asyncio.Task[None]) -> None:
        """Stop `run` between batches (reading is safe to cancel, handling is not)."""
        while not consumer.done():
            await self._idle.wait()
            await asyncio.sleep(0)  # let a batch that just arrived begin, or the read resume
            if self._idle.is_set():
                consumer.cancel()
                break
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        await self.retries.stop()

    async def _consume_batch(self, source: EventSource, batch: list[Delivered]) -> None:
        """Jobs are handled side by side (so their bookkeeping is shared), each job's events in
        order; a progress event with a later event of its job in the same batch is stale."""
        by_job: dict[str, list[Delivered]] = {}
        for delivered in batch:
            by_job.setdefault(delivered.event.job_id, []).append(delivered)

        async def one_job(events: list[Delivered]) -> None:
            for index, delivered in enumerate(events):
                stale = delivered.event.kind in ("started", "progress") and index < len(events) - 1
                if stale:
                    await source.ack(delivered)
                else:
                    # A stale event's preview frame still shows, with the progress after it.
                    await self._consume(source, queue_view.with_preview(delivered, events[:index]))

        await asyncio.gather(*(one_job(events) for events in by_job.values()))

    async def _consume(self, source: EventSource, delivered: Delivered) -> None:
        if self.retries.holds(delivered):
            return  # read again while its retries run; they acknowledge it when they end
        event = delivered.event
        try:
            await self.on_event(event)
        except NoPort:
            log.warning("event for a platform not served here", extra={"job_id": event.job_id})
        except Exception as error:
            if event.kind in ("done", "failed"):
                # A clip or the news that there is none: tried again on its own, so the other
                # jobs' events go on; acknowledged when it ends.
                self.retries.start(source, delivered, error)
                return
            log.exception("event handling failed", extra={"job_id": event.job_id})
        await source.ack(delivered)

    async def _not_posted(self, event: JobEvent) -> None:
        """Posting kept failing: tell the person rather than leave them waiting (a failure
        notice that could not be posted has nothing left to try)."""
        if event.kind != "done":
            return
        route = await delivery.load_route(self.deps, event.job_id)
        failure = Failed(
            reason=delivery.NOT_POSTED.format(route.chat.platform), job_id=event.job_id
        )
        await tell(self.port(route.chat.platform), route.where, failure)

    async def resume(self) -> int:
        """Hand every queued or running job to the queue again (after a restart an in-process
        queue is empty; arq ignores ids it already holds). Returns how many were handed over."""
        async with self.deps.db.session() as session:
            job_ids = await job_rows.in_flight_ids(session)
        for job_id in job_ids:
            await self.deps.queue.enqueue(job_id)
        if job_ids:
            log.info("resumed jobs", extra={"count": len(job_ids)})
        return len(job_ids)

    async def run_requeue(self, every_s: float = REQUEUE_S) -> None:
        """Hand queued jobs to the queue again until cancelled: a job whose enqueue failed
        (Redis restarting) waits in storage and goes out once the queue answers. The queue
        ignores ids it holds already, so the others cost one cheap call each."""
        while True:
            await asyncio.sleep(every_s)
            try:
                # Not the newest: their command is still being answered, and they are handed
                # over as soon as their status message is up.
                async with self.deps.db.session() as session:
                    job_ids = await job_rows.queued_ids(session, before=utcnow() - REQUEUE_AGE)
                for job_id in job_ids:
                    if await self.deps.queue.enqueue(job_id):
                        log.info("queued job handed over", extra={"job_id": job_id})
                await self.post_unposted()
            except Exception as error:
                log.warning(
                    "handing queued jobs over failed", extra={"error": type(error).__name__}
                )

    async def post_unposted(self) -> None:
        """Clips whose done event never arrived (lost with a Redis that restarted empty) are
        posted anyway; the delivery claims keep this from posting anything twice."""
        now = utcnow()
        async with self.deps.db.session() as session:
            missing = await deliveries.unposted(
                session,
                finished_after=now - UNPOSTED_WINDOW,
                finished_before=now - UNPOSTED_GRACE,
            )
        for job_id, clip_id in missing:
            log.warning("clip finished but never posted; posting", extra={"job_id": job_id})
            await self.on_event(JobEvent(job_id=job_id, kind="done", fraction=1.0, clip_id=clip_id))

    async def expire_consents(self) -> int:
        """Cancel the jobs whose cameo owners did not answer in time; returns how many."""
        after = timedelta(minutes=self.deps.config.consent_expiry_minutes)
        return await approvals.expire(self.deps, self._ports, after=after)

    async def run_expiry(self, every_s: float = EXPIRY_SWEEP_S) -> None:
        """Sweep for expired cameo requests until cancelled."""
        while True:
            try:
                await self.expire_consents()
            except Exception:
                log.exception("expiring cameo requests failed")
            await asyncio.sleep(every_s)

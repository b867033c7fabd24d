"""The core: one place where commands come in and job events go out as replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from bot import delivery
from bot.commands import Command, DeleteClip, Generate, Help, Remix, Reroll, Unknown
from bot.deletion import delete_clip
from bot.deps import Deps
from bot.errors import BotError, EmptyPrompt
from bot.generate import JobRequest, Recorded, enqueue, record_jobs, remember_statuses
from bot.ports import ChatPort, Notice
from bot.prompt import ParsedPrompt, parse_prompt
from bot.remix import parent_by_id, parent_from_reply
from bot.replies import Queued, Refused, Reply, Usage
from bot.types import ChatRef, MessageRef
from engine.events import Delivered, EventSource, JobEvent
from storage import jobs as job_rows
from storage.batching import Batcher
from storage.errors import NotFound
from storage.models import Clip

log = logging.getLogger(__name__)

# How often a failed clip post is tried again before the event is given up (seconds between).
POST_RETRY_DELAYS = (1.0, 5.0, 30.0)
CHANNEL_RETRY_S = 1.0
MAX_KEPT_ROUTES = 10_000


class NoPort(LookupError):
    """A reply for a platform whose adapter is not running in this process."""


class Core:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._ports: dict[str, ChatPort] = {}
        self._throttle = delivery.ProgressThrottle()
        self._books = delivery.Bookkeeping.over(deps)
        self._idle = asyncio.Event()
        self._idle.set()
        # Where each job's replies go, kept from when its command came in (see on_event).
        self._routes: dict[str, delivery.Route] = {}
        # A burst of commands is written in a few transactions, not one each (group commit).
        self._record: Batcher[JobRequest, Recorded] = Batcher(partial(record_jobs, deps))
        self._remember: Batcher[tuple[str, MessageRef], None] = Batcher(
            partial(remember_statuses, deps)
        )

    def attach(self, port: ChatPort) -> None:
        self._ports[port.platform] = port

    def port(self, platform: str) -> ChatPort:
        try:
            return self._ports[platform]
        except KeyError:
            raise NoPort(f"no adapter for {platform!r} in this process") from None

    # Commands -------------------------------------------------------------------------------

    async def handle(self, command: Command) -> Reply:
        """Answer a command through its platform's port; returns the first reply posted."""
        port = self.port(command.chat.platform)
        if isinstance(command, DeleteClip):
            # Answered to the person who pressed Delete (an alert), not posted in the chat.
            return await delete_clip(self.deps, command, self._ports)
        reply = await self._decide(command)
        if isinstance(reply, Queued):
            return await self._queue(port, command, reply)
        await port.post(command.chat, reply, reply_to=command.message)
        return reply

    async def _decide(self, command: Generate | Remix | Reroll | Help | Unknown) -> Notice:
        """Validation and bookkeeping that need no posting: a Queued reply, or why not."""
        if isinstance(command, Help):
            return Usage(self.deps.config.command)
        if isinstance(command, Unknown):
            return Usage(self.deps.config.command, note=f"I don't know /{command.name}.")
        try:
            request = await self._request(command)
            recorded = await self._record(request)
        except EmptyPrompt as error:
            return Usage(self.deps.config.command, note=str(error))
        except BotError as error:
            return Refused(str(error))
        return Queued(
            job_id=recorded.job_id,
            position=recorded.position,
            prompt=recorded.prompt,
            remix_of=recorded.parent_clip_id,
        )

    async def _request(self, command: Generate | Remix | Reroll) -> JobRequest:
        parent: Clip | None
        if isinstance(command, Reroll):
            parent = await parent_by_id(self.deps, command.parent_clip_id)
            return JobRequest(
                prompt=ParsedPrompt(text=parent.prompt),
                author=command.author,
                chat=command.chat,
                message=command.message,
                parent=parent,
                reroll=True,
            )
        if isinstance(command, Remix):
            parent = await parent_by_id(self.deps, command.parent_clip_id)
        else:
            parent = await parent_from_reply(self.deps, command.reply_to)
        prompt = parse_prompt(command.prompt, max_chars=self.deps.config.max_prompt_chars)
        return JobRequest(
            prompt=prompt,
            author=command.author,
            chat=command.chat,
            message=command.message,
            parent=parent,
            seed=command.seed,
        )

    async def _queue(self, port: ChatPort, command: Command, queued: Queued) -> Reply:
        try:
            status = await port.post(command.chat, queued, reply_to=command.message)
            await self._remember((queued.job_id, status))
            self._keep_route(
                delivery.Route(
                    job_id=queued.job_id,
                    chat=command.chat,
                    author=command.author.handle,
                    request=command.message,
                    status=status,
                )
            )
            await enqueue(self.deps, queued.job_id)
        except BotError as error:
            refused = Refused(str(error))
            await self._say(port, command.chat, refused, command.message)
            return refused
        return queued

    async def _say(
        self, port: ChatPort, chat: ChatRef, reply: Notice, reply_to: MessageRef | None
    ) -> None:
        try:
            await port.post(chat, reply, reply_to=reply_to)
        except Exception:
            log.exception("could not post reply", extra={"platform": chat.platform})

    # Events ---------------------------------------------------------------------------------

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
            await delivery.show_progress(port, route, event, self._throttle)
            return
        if event.kind == "done":
            await delivery.post_clip(self.deps, self._books, port, route, event)
        elif event.kind == "failed":
            await delivery.show_failure(port, route, event)
        self._throttle.forget(event.job_id)
        self._routes.pop(event.job_id, None)

    def _keep_route(self, route: delivery.Route) -> None:
        self._routes[route.job_id] = route
        if len(self._routes) > MAX_KEPT_ROUTES:  # jobs whose end never came: drop the oldest
            del self._routes[next(iter(self._routes))]

    async def run_events(self, source: EventSource) -> None:
        """Consume job events until cancelled. An event is acknowledged once handled, so a
        restart re-reads whatever was in hand; posting is idempotent, so nothing shows twice.

        Cancel it through `stop_events()`: a batch in hand is finished first, since cancelling
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
            finally:
                self._idle.set()

    async def stop_events(self, consumer: asyncio.Task[None]) -> None:
        """Stop `run_events` between batches (reading is safe to cancel, handling is not)."""
        while not consumer.done():
            await self._idle.wait()
            await asyncio.sleep(0)  # let a batch that just arrived begin, or the read resume
            if self._idle.is_set():
                consumer.cancel()
                break
        with contextlib.suppress(asyncio.CancelledError):
            await consumer

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
                    await self._consume(source, delivered)

        await asyncio.gather(*(one_job(events) for events in by_job.values()))

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

    async def _consume(self, source: EventSource, delivered: Delivered) -> None:
        event = delivered.event
        for delay in (*POST_RETRY_DELAYS, None):
            try:
                await self.on_event(event)
                break
            except NoPort:
                log.warning("event for a platform not served here", extra={"job_id": event.job_id})
                break
            except Exception:
                if event.kind != "done" or delay is None:
                    log.exception("event handling failed", extra={"job_id": event.job_id})
                    break
                log.warning("posting a clip failed; retrying", extra={"job_id": event.job_id})
                await asyncio.sleep(delay)
        await source.ack(delivered)

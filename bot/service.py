"""The core: one place where commands come in and job events go out as replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial

from bot import admin, approvals, cameos, consent_checks, delivery, metrics, moderation, queue_view
from bot.admin_commands import AdminCommand, CancelJob
from bot.cancel import cancel_job
from bot.commands import (
    AnswerConsent,
    CameoCommand,
    Command,
    DeleteClip,
    Generate,
    Help,
    Remix,
    Repost,
    Reroll,
    SelfieUpload,
    Unknown,
    VerifyUpload,
)
from bot.consent import CameoPlan
from bot.deletion import delete_clip, remove_clips
from bot.deps import Deps
from bot.enqueue import enqueue
from bot.errors import BotError, EmptyPrompt
from bot.feed_answers import answer as answer_feed
from bot.feed_answers import remix as remix_by_number
from bot.feed_commands import FeedPage, React, ReactionCounts, RemixByNumber, ShowFeed, ToggleLike
from bot.generate import JobRequest, Recorded, record_jobs, remember_statuses
from bot.ports import CameoSuggestion, CannotDM, ChatPort, Notice
from bot.prompt import ParsedPrompt, parse_prompt
from bot.queue_commands import ShowQueue
from bot.remix import parent_by_id, parent_from_reply
from bot.replies import Failed, Note, Queued, Refused, Reply, Usage
from bot.retries import PostRetries
from bot.tell import Where, after_checking, tell
from bot.types import ChatRef, MessageRef
from bot.verify import answer_verify
from engine.events import Delivered, EventSource, JobEvent
from storage import cameos as cameo_rows
from storage import deliveries
from storage import jobs as job_rows
from storage.batching import Batcher
from storage.errors import NotFound
from storage.models import Clip, utcnow

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


class NoPort(LookupError):
    """A reply for a platform whose adapter is not running in this process."""


@dataclass(frozen=True)
class Awaiting:
    """A recorded job that waits for cameo owners; `note` tells the requester so."""

    note: Note
    job_id: str


class Core:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._ports: dict[str, ChatPort] = {}
        self._throttle = delivery.ProgressThrottle()
        self._books = delivery.Bookkeeping.over(deps)
        self._retries = PostRetries(handle=self.on_event, give_up=self._not_posted)
        self._idle = asyncio.Event()
        self._idle.set()
        # Where each job's replies go, kept from when its command came in (see on_event).
        self._routes: dict[str, delivery.Route] = {}
        # A burst of commands is written in a few transactions, not one each (group commit).
        self._record: Batcher[JobRequest, Recorded] = Batcher(partial(record_jobs, deps))
        # Prompts arriving together are checked in one light call (bot.moderation).
        self._checker = moderation.PromptChecker(deps)
        self._remember: Batcher[tuple[str, MessageRef], None] = Batcher(
            partial(remember_statuses, deps)
        )
        # Places in line and times (bot.queue_view): new jobs' read together, like records.
        self._standing: Batcher[str, queue_view.Standing] = Batcher(
            partial(queue_view.standings, deps)
        )
        self._clock = queue_view.RenderClock(deps)
        self._waiting = queue_view.WaitingMessages(deps, self._ports)

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
        answered = await self._answer_aside(port, command)
        if answered is not None:
            return answered
        if isinstance(command, RemixByNumber):
            # `/remix 12 <change>` is the Remix of clip 12, once it is known to be this chat's.
            remix = await remix_by_number(self.deps, port, command)
            if not isinstance(remix, Remix):
                return remix
            command = remix
        # Every other kind was answered aside.
        assert isinstance(command, Generate | Remix | Reroll | Help | Unknown)
        reply = await self._decide(command)
        if isinstance(reply, Queued):
            return await self._queue(port, command, reply)
        if isinstance(reply, Awaiting):
            return await self._await_consent(port, command, reply)
        await tell(port, Where(command.chat, command.message), reply)
        return reply

    async def _answer_aside(self, port: ChatPort, command: Command) -> Reply | None:
        """Commands answered on their own, without queueing a clip; None for the others."""
        if isinstance(command, DeleteClip | AnswerConsent | CancelJob):
            return await self._pressed(command)
        if isinstance(command, ShowQueue):
            waiting = await queue_view.chat_queue(self.deps, command.chat, self.deps.config.command)
            await tell(port, Where(command.chat, command.message), waiting)
            return waiting
        if isinstance(command, CameoCommand):
            return await self._privately(port, command, await self._cameo(command))
        if isinstance(command, SelfieUpload):
            return await self._selfie(port, command)
        if isinstance(command, VerifyUpload):
            return await answer_verify(self.deps, port, command)
        if isinstance(command, AdminCommand):
            return await self._admin(port, command)
        if isinstance(command, ShowFeed | FeedPage | React | ReactionCounts | ToggleLike):
            return await answer_feed(self.deps, port, command)
        if isinstance(command, Repost):
            return await delivery.answer_repost(self.deps, self._books, port, command)
        return None

    async def _pressed(self, command: DeleteClip | AnswerConsent | CancelJob) -> Reply:
        """Buttons answered to the person who pressed (an alert), not posted in the chat."""
        if isinstance(command, DeleteClip):
            return await delete_clip(self.deps, command, self._ports)
        if isinstance(command, AnswerConsent):
            # Only the cameo's owner counts; the core edits the chats itself.
            return await approvals.answer(self.deps, self._ports, command)
        # A Cancel (the requester's, or an admin's): the requester hears on their status message.
        return await cancel_job(self.deps, self._ports, command)

    async def _decide(
        self, command: Generate | Remix | Reroll | Help | Unknown
    ) -> Notice | Awaiting:
        """Validation and bookkeeping that need no posting: a Queued reply, or why not."""
        if isinstance(command, Help):
            return Usage(self.deps.config.command)
        if isinstance(command, Unknown):
            return Usage(self.deps.config.command, note=f"I don't know /{command.name}.")
        try:
            # Moderation, bans and budgets (bot.moderation, bot.budgets) before anything is kept.
            request = await self._screened(command, await self._request(command))
            recorded = await self._record(request)
        except EmptyPrompt as error:
            return Usage(self.deps.config.command, note=str(error))
        except BotError as error:
            return Refused(str(error))
        if recorded.waiting_for:
            note = approvals.waiting_note(
                recorded.waiting_for, self.deps.config.consent_expiry_minutes
            )
            return Awaiting(note=note, job_id=recorded.job_id)
        standing = await self._standing(recorded.job_id)
        return Queued(
            job_id=recorded.job_id,
            position=standing.position,
            prompt=recorded.prompt,
            remix_of=recorded.parent_clip_id,
            eta_s=standing.eta_s,
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
                cameos=await self._plan(command, ParsedPrompt(text=parent.prompt), parent),
                target_bytes=self._upload_limit(command.chat),
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
            cameos=await self._plan(command, prompt, parent),
            target_bytes=self._upload_limit(command.chat),
        )

    async def _screened(
        self, command: Generate | Remix | Reroll, request: JobRequest
    ) -> JobRequest:
        """The request with its chat's rules, once the prompt and its dialogue lines passed the
        chat's policy; raises a BotError the person reads (banned, refused, unchecked)."""
        texts = [request.prompt.text, *(line.text for line in request.prompt.dialogue)]
        asker = moderation.Asker(
            command.author, command.chat, texts, consenting_cameos=bool(request.cameos.uses)
        )
        return replace(request, rules=await moderation.screen(self.deps, self._checker, asker))

    async def _admin(self, port: ChatPort, command: AdminCommand) -> Reply:
        reply = await admin.run(self.deps, self._ports, command)
        # A non-admin is told where they typed it: there is nothing private to say.
        if command.answered_privately or not command.is_admin:
            await tell(port, Where(command.chat, command.message), reply)
            return reply
        return await self._privately(port, command, reply)

    def _upload_limit(self, chat: ChatRef) -> int | None:
        """The platform's upload limit: the worker's first encode aims under it."""
        port = self._ports.get(chat.platform)
        return port.capabilities.max_upload_bytes if port is not None else None

    async def _plan(
        self, command: Generate | Remix | Reroll, prompt: ParsedPrompt, parent: Clip | None
    ) -> CameoPlan:
        """Which cameos the clip uses, and whose consent it waits for (a remix or a reroll
        carries the parent's cameos, checked again for the person asking now)."""
        return await consent_checks.plan_cameos(
            self.deps,
            author=command.author,
            chat=command.chat,
            mentions=command.mentions if isinstance(command, Generate) else (),
            names=prompt.mentions,
            parent=parent,
        )

    async def _queue(self, port: ChatPort, command: Command, queued: Queued) -> Reply:
        try:
            status = await port.post(command.chat, queued, reply_to=command.message)
            await self._remember((queued.job_id, status))
            self._waiting.posted(queued.job_id, queued.text)
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
            await tell(port, Where(command.chat, command.message), refused, quietly=True)
            return refused
        return queued

    async def _await_consent(self, port: ChatPort, command: Command, waiting: Awaiting) -> Reply:
        """Tell the requester the clip waits, then ask each owner in a direct message."""
        status = await port.post(command.chat, waiting.note, reply_to=command.message)
        await self._remember((waiting.job_id, status))
        try:
            await approvals.ask_owners(self.deps, port, waiting.job_id, command.chat)
        except CannotDM as error:
            refused = Refused(f"{error} Nothing was queued.")
            where = Where(command.chat, command.message, status)
            await tell(port, where, refused, quietly=True)
            return refused
        return waiting.note

    # Cameos ---------------------------------------------------------------------------------

    async def _cameo(self, command: CameoCommand) -> Note | Refused:
        return await cameos.control(self.deps, self._ports, command)

    async def _privately(
        self,
        port: ChatPort,
        command: CameoCommand | SelfieUpload | AdminCommand,
        reply: Note | Refused,
    ) -> Reply:
        """Cameo business goes to a direct message; a group only hears that one was sent."""
        try:
            sent = await port.dm(
                command.author, reply if isinstance(reply, Note) else Note(reply.text)
            )
        except CannotDM as error:
            refused = Refused(str(error))
            await tell(port, Where(command.chat, command.message), refused, quietly=True)
            return refused
        if sent.chat.chat_id != command.chat.chat_id:
            sent_note = Note("📬 I sent you a direct message.")
            await tell(port, Where(command.chat, command.message), sent_note, quietly=True)
        return reply

    async def _selfie(self, port: ChatPort, command: SelfieUpload) -> Reply:
        return await after_checking(
            port,
            Where(command.chat, command.message),
            Note("🔍 Checking your selfie clip… this takes a few seconds."),
            partial(cameos.enroll, self.deps, command),
            failure="Something went wrong while checking your clip. Please try again.",
        )

    async def suggest_cameos(
        self, *, platform: str, typed: str, limit: int = 25
    ) -> list[CameoSuggestion]:
        async with self.deps.db.session() as session:
            owners = await cameo_rows.suggest(session, platform, typed, limit)
        return [
            CameoSuggestion(label=owner.handle, user_id=owner.platform_user_id) for owner in owners
        ]

    async def expire_consents(self) -> int:
        """Cancel the jobs whose cameo owners did not answer in time; returns how many."""
        after = timedelta(minutes=self.deps.config.consent_expiry_minutes)
        return await approvals.expire(self.deps, self._ports, after=after)

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
                await self._post_unposted()
            except Exception as error:
                log.warning(
                    "handing queued jobs over failed", extra={"error": type(error).__name__}
                )

    async def _post_unposted(self) -> None:
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

    async def run_expiry(self, every_s: float = EXPIRY_SWEEP_S) -> None:
        """Sweep for expired cameo requests until cancelled."""
        while True:
            try:
                await self.expire_consents()
            except Exception:
                log.exception("expiring cameo requests failed")
            await asyncio.sleep(every_s)

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
                        self.deps, self._books, port, route, event, featuring=check.featuring
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
            self._keep_route(replace(route, status=moved))
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
            except Exception:
                # An acknowledgement lost to a Redis blip: the event is read again later, and
                # handling it twice shows nothing twice.
                log.exception("handling job events failed; carrying on")
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
        await self._retries.stop()

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
        if self._retries.holds(delivered):
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
                self._retries.start(source, delivered, error)
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

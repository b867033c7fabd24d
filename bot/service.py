"""The core's dispatch: every command comes in here and is answered; job events go out as
replies through `bot.events`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial

from bot import (
    admin,
    approvals,
    cameo_controls,
    consent_checks,
    delivery,
    enrollment,
    moderation,
    queue_view,
)
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
from bot.deletion import delete_clip
from bot.deps import Deps
from bot.enqueue import enqueue
from bot.errors import BotError
from bot.events import Events
from bot.feed_answers import answer as answer_feed
from bot.feed_answers import remix as remix_by_number
from bot.feed_commands import FeedPage, React, ReactionCounts, RemixByNumber, ShowFeed, ToggleLike
from bot.generate import JobRequest, Recorded, record_jobs, remember_statuses
from bot.ports import CameoSuggestion, CannotDM, ChatPort, Notice
from bot.prompt import ParsedPrompt, parse_prompt
from bot.queue_commands import ShowQueue
from bot.remix import parent_by_id, parent_from_reply
from bot.replies import Note, Queued, Refused, Reply, Usage, refusal
from bot.tell import Where, after_checking, tell
from bot.types import ChatRef, MessageRef
from bot.verify import answer_verify
from storage import cameos as cameo_rows
from storage.batching import Batcher
from storage.models import Clip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Awaiting:
    """A recorded job that waits for cameo owners; `note` tells the requester so."""

    note: Note
    job_id: str


class Core:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._ports: dict[str, ChatPort] = {}
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
        self._waiting = queue_view.WaitingMessages(deps, self._ports)
        # Job events in, replies out, and the sweeps that keep jobs from being lost.
        self.events = Events(deps, self._ports, self._waiting, self._remember)
        # The core stays the one object the wiring holds: these verbs run in bot.events.
        self.port = self.events.port
        self.on_event = self.events.on_event
        self.run_events = self.events.run
        self.stop_events = self.events.stop
        self.resume = self.events.resume
        self.run_requeue = self.events.run_requeue
        self.run_expiry = self.events.run_expiry
        self.expire_consents = self.events.expire_consents

    def attach(self, port: ChatPort) -> None:
        self._ports[port.platform] = port

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
            return await delivery.answer_repost(self.deps, self.events.books, port, command)
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
        except BotError as error:
            return refusal(error, command=self.deps.config.command)
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
            self.events.keep_route(
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
            refused = refusal(error)
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
            refused = refusal(error, then="Nothing was queued.")
            where = Where(command.chat, command.message, status)
            await tell(port, where, refused, quietly=True)
            return refused
        return waiting.note

    # Cameos ---------------------------------------------------------------------------------

    async def _cameo(self, command: CameoCommand) -> Note | Refused:
        return await cameo_controls.control(self.deps, self._ports, command)

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
            refused = refusal(error)
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
            partial(enrollment.enroll, self.deps, command),
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

    # Events ---------------------------------------------------------------------------------

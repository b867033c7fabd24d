"""`/sora <prompt>`: validate, check the quota, record the job, answer, enqueue.

Ordering matters for "nothing is lost": the job row is committed before anything is posted, the
status message is posted before the job is enqueued (so the worker's first event has a message
to edit), and a job that cannot be enqueued is marked failed and the person is told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot import budgets
from bot.consent import CameoPlan
from bot.deps import Deps
from bot.errors import TooManyJobs
from bot.policy import ChatRules
from bot.prompt import ParsedPrompt, extract_dialogue
from bot.types import ChatRef, ChatUser, MessageRef
from storage import guardrails
from storage import jobs as job_rows
from storage.models import Clip, JobState, utcnow
from storage.people import chat_ids, user_ids

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    job_id: str
    prompt: str
    parent_clip_id: int | None
    # In-flight jobs ahead of this one when it was recorded (0: it is next).
    position: int
    # Owners whose answer the job waits for (their handles); empty when it can be queued.
    waiting_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobRequest:
    prompt: ParsedPrompt
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None
    parent: Clip | None = None
    seed: int | None = None
    # Same prompt as the parent, new seed (a Reroll button), rather than a change on top of it.
    reroll: bool = False
    # The cameos in the clip and each owner's consent so far.
    cameos: CameoPlan = field(default_factory=CameoPlan)
    # The chat platform's upload limit, if it has one.
    target_bytes: int | None = None
    # The chat's policy and budgets as the moderation check read them (bot.moderation).
    rules: ChatRules = field(default_factory=ChatRules)


async def record_jobs(deps: Deps, requests: list[JobRequest]) -> list[Recorded | Exception]:
    """Create the job rows for many requests in one transaction (see storage.batching), checking
    each author's cap on jobs in flight as it goes. One result per request, in order: the job
    and how many in-flight jobs are ahead of it, or the error that refused it."""
    cap = deps.config.max_jobs_per_user
    async with deps.db.transaction() as session:
        users = await user_ids(
            session,
            [
                (r.author.platform, r.author.user_id, r.author.display_name, r.author.username)
                for r in requests
            ],
        )
        chats = await chat_ids(
            session, [(r.chat.platform, r.chat.chat_id, r.chat.title) for r in requests]
        )
        in_flight = await job_rows.in_flight_by_author(session, list(users.values()))
        book = await budgets.open_book(
            session, author_ids=list(users.values()), chat_ids=list(chats.values()), now=utcnow()
        )
        ahead = await job_rows.count_all_in_flight(session)
        results: list[Recorded | Exception] = []
        jobs: list[job_rows.NewJob] = []
        for request in requests:
            author_id = users[(request.author.platform, request.author.user_id)]
            chat_id = chats[(request.chat.platform, request.chat.chat_id)]
            if in_flight.get(author_id, 0) >= cap:
                results.append(TooManyJobs(cap))
                continue
            over = book.take(author_id, chat_id, request.rules.budget)
            if over is not None:
                await guardrails.audit(
                    session,
                    chat_id=chat_id,
                    actor_id=author_id,
                    action="refused",
                    category="budget",
                )
                results.append(over)
                continue
            in_flight[author_id] = in_flight.get(author_id, 0) + 1
            job = new_job(deps, request, author_id=author_id, chat_id=chat_id)
            jobs.append(job)
            waiting = tuple(use.owner.handle for use in request.cameos.waiting)
            results.append(
                Recorded(
                    job_id=job.id,
                    prompt=job.prompt,
                    parent_clip_id=job.parent_clip_id,
                    position=ahead,
                    waiting_for=waiting,
                )
            )
            ahead += 0 if waiting else 1
        await job_rows.insert_jobs(session, jobs)
    return results


def new_job(deps: Deps, request: JobRequest, *, author_id: int, chat_id: int) -> job_rows.NewJob:
    config = deps.config
    return job_rows.NewJob(
        prompt=combined_prompt(request),
        # From the whole prompt: a remix keeps the parent's lines and adds its own.
        dialogue=[
            {"text": line.text, "speaker": line.speaker}
            for line in extract_dialogue(combined_prompt(request))
        ],
        seed=pick_seed(deps, request),
        engine=config.engine,
        duration_s=config.duration_s,
        width=config.width,
        height=config.height,
        fps=config.fps,
        target_bytes=request.target_bytes,
        author_id=author_id,
        chat_id=chat_id,
        parent_clip_id=request.parent.id if request.parent else None,
        request_message_id=request.message.message_id if request.message else None,
        state=JobState.AWAITING_CONSENT if request.cameos.waiting else JobState.QUEUED,
        cameos=[(use.cameo_id, use.state) for use in request.cameos.uses],
        nudity_threshold=request.rules.nudity_threshold,
    )


def combined_prompt(request: JobRequest) -> str:
    """A remix keeps the parent's scene and adds the change on top; a reroll keeps it as is."""
    if request.parent is None:
        return request.prompt.text
    if request.reroll:
        return request.parent.prompt
    return f"{request.parent.prompt} · remix: {request.prompt.text}"


def pick_seed(deps: Deps, request: JobRequest) -> int:
    if request.seed is not None:
        return request.seed
    if request.parent is not None and not request.reroll:
        return request.parent.seed
    return deps.new_seed()


async def remember_statuses(
    deps: Deps, statuses: list[tuple[str, MessageRef]]
) -> list[Exception | None]:
    """Record which message shows each job's status (batched like record_jobs)."""
    async with deps.db.transaction() as session:
        await job_rows.set_status_messages(session, {j: m.message_id for j, m in statuses})
    return [None] * len(statuses)

"""`/sora <prompt>`: validate, check the quota, record the job, answer, enqueue.

Ordering matters for "nothing is lost": the job row is committed before anything is posted, the
status message is posted before the job is enqueued (so the worker's first event has a message
to edit), and a job that cannot be enqueued is marked failed and the person is told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.deps import Deps
from bot.errors import EngineUnavailable, TooManyJobs
from bot.prompt import ParsedPrompt
from bot.types import ChatRef, ChatUser, MessageRef
from storage import jobs as job_rows
from storage.models import Clip, Job, JobState
from storage.people import upsert_chat, upsert_user

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobRequest:
    prompt: ParsedPrompt
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None
    parent: Clip | None = None
    seed: int | None = None


async def record_job(deps: Deps, request: JobRequest) -> tuple[Job, int]:
    """Create the job row (quota checked in the same transaction); returns it and its position."""
    config = deps.config
    async with deps.db.transaction() as session:
        author = await upsert_user(
            session,
            platform=request.author.platform,
            platform_user_id=request.author.user_id,
            display_name=request.author.display_name,
            username=request.author.username,
        )
        chat = await upsert_chat(
            session,
            platform=request.chat.platform,
            platform_chat_id=request.chat.chat_id,
            title=request.chat.title,
        )
        assert author.id is not None and chat.id is not None
        if await job_rows.count_in_flight(session, author.id) >= config.max_jobs_per_user:
            raise TooManyJobs(config.max_jobs_per_user)
        job = Job(
            id=job_rows.new_job_id(),
            prompt=combined_prompt(request),
            dialogue=[
                {"text": line.text, "speaker": line.speaker} for line in request.prompt.dialogue
            ],
            seed=pick_seed(deps, request),
            engine=config.engine,
            duration_s=config.duration_s,
            width=config.width,
            height=config.height,
            fps=config.fps,
            author_id=author.id,
            chat_id=chat.id,
            parent_clip_id=request.parent.id if request.parent else None,
            request_message_id=request.message.message_id if request.message else None,
        )
        session.add(job)
        await session.flush()
        position = await job_rows.queue_position(session, job)
    return job, position


def combined_prompt(request: JobRequest) -> str:
    """A remix keeps the parent's scene and adds the change on top."""
    if request.parent is None:
        return request.prompt.text
    return f"{request.parent.prompt} · remix: {request.prompt.text}"


def pick_seed(deps: Deps, request: JobRequest) -> int:
    if request.seed is not None:
        return request.seed
    if request.parent is not None:
        return request.parent.seed
    return deps.new_seed()


async def remember_status(deps: Deps, job_id: str, status: MessageRef) -> None:
    async with deps.db.transaction() as session:
        job = await job_rows.get_job(session, job_id)
        job.status_message_id = status.message_id
        session.add(job)


async def enqueue(deps: Deps, job_id: str) -> None:
    """Hand the job to the queue; if the queue is down, the job ends failed, not forgotten."""
    try:
        await deps.queue.enqueue(job_id)
    except Exception as exc:
        log.exception("enqueue failed", extra={"job_id": job_id})
        error = EngineUnavailable()
        async with deps.db.transaction() as session:
            await job_rows.transition(session, job_id, JobState.FAILED, error=str(error))
        raise error from exc

"""Job events → chat replies: progress edits, the finished clip (posted exactly once), failures."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.deps import Deps
from bot.ports import ChatPort
from bot.replies import ClipReady, Failed, Progress
from bot.types import ChatRef, MessageRef
from engine.events import JobEvent
from storage import deliveries
from storage import jobs as job_rows
from storage.models import Chat, Clip, Job, User

log = logging.getLogger(__name__)

# A person waiting for a clip wants to see movement, not every percent: 5 % steps are plenty.
MIN_PERCENT_STEP = 5
GENERIC_FAILURE = "Something went wrong while making your clip. Please try again."


@dataclass
class ProgressThrottle:
    """Remembers the last edit per job so status messages are edited at a sane rate."""

    last: dict[str, tuple[int, float]] = field(default_factory=dict)

    def should_edit(self, job_id: str, percent: int, min_interval_s: float) -> bool:
        previous = self.last.get(job_id)
        now = time.monotonic()
        if previous is not None:
            last_percent, last_time = previous
            if percent < last_percent + MIN_PERCENT_STEP or now - last_time < min_interval_s:
                return False
        self.last[job_id] = (percent, now)
        return True

    def forget(self, job_id: str) -> None:
        self.last.pop(job_id, None)


@dataclass(frozen=True)
class Route:
    job: Job
    chat: ChatRef
    author: User

    @property
    def request(self) -> MessageRef | None:
        mid = self.job.request_message_id
        return MessageRef(self.chat, mid) if mid else None

    @property
    def status(self) -> MessageRef | None:
        mid = self.job.status_message_id
        return MessageRef(self.chat, mid) if mid else None


async def load_route(deps: Deps, job_id: str) -> Route:
    async with deps.db.session() as session:
        job, chat, author = await job_rows.route(session, job_id)
    return Route(job=job, chat=chat_ref(chat), author=author)


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(platform=chat.platform, chat_id=chat.platform_chat_id, title=chat.title)


async def show_progress(
    port: ChatPort, route: Route, event: JobEvent, throttle: ProgressThrottle
) -> None:
    status = route.status
    if status is None or not port.capabilities.edits:
        return
    percent = max(0, min(99, int(event.fraction * 100)))
    if throttle.should_edit(event.job_id, percent, port.capabilities.min_edit_interval_s):
        stage = event.stage or ("starting" if event.kind == "started" else "working")
        await port.edit(status, Progress(job_id=event.job_id, percent=percent, stage=stage))


async def show_failure(port: ChatPort, route: Route, event: JobEvent) -> None:
    reply = Failed(reason=event.error or GENERIC_FAILURE, job_id=event.job_id)
    status = route.status
    if status is not None and port.capabilities.edits:
        await port.edit(status, reply)
    else:
        await port.post(route.chat, reply, reply_to=route.request)


async def post_clip(deps: Deps, port: ChatPort, route: Route, event: JobEvent) -> bool:
    """Post the finished clip unless it was posted already. True if this call posted it."""
    clip = await _clip(deps, route.job.id)
    if clip is None or clip.deleted:
        log.warning("done event without a live clip", extra={"job_id": route.job.id})
        return False
    assert clip.id is not None
    target = deliveries.Target(
        clip_id=clip.id, platform=route.chat.platform, platform_chat_id=route.chat.chat_id
    )
    async with deps.db.transaction() as session:
        if not await deliveries.claim(session, target, claimant=deps.instance):
            return False
    try:
        video = deps.blobs.read(clip.blob_key)
        message = await port.send_clip(
            route.chat, ready(clip, route), video, reply_to=route.request
        )
    except BaseException:
        async with deps.db.transaction() as session:
            await deliveries.release(session, target)
        raise
    async with deps.db.transaction() as session:
        await deliveries.mark_sent(session, target, message_id=message.message_id)
    await _retire_status(port, route)
    return True


def ready(clip: Clip, route: Route) -> ClipReady:
    assert clip.id is not None
    return ClipReady(
        job_id=clip.job_id,
        clip_id=clip.id,
        blob_key=clip.blob_key,
        prompt=clip.prompt,
        author=(route.author.username and f"@{route.author.username}") or route.author.display_name,
        width=clip.width,
        height=clip.height,
        duration_s=clip.duration_s,
        size_bytes=clip.size_bytes,
        parent_clip_id=clip.parent_id,
    )


async def _clip(deps: Deps, job_id: str) -> Clip | None:
    async with deps.db.session() as session:
        return await job_rows.clip_for_job(session, job_id)


async def _retire_status(port: ChatPort, route: Route) -> None:
    """The status message has done its job once the clip is up."""
    status = route.status
    if status is None:
        return
    try:
        if port.capabilities.deletes:
            await port.delete(status)
        elif port.capabilities.edits:
            await port.edit(status, Progress(job_id=route.job.id, percent=100, stage="done"))
    except Exception:
        # The clip is posted; a status message that lingers is cosmetic.
        log.warning("could not retire status message", extra={"job_id": route.job.id})

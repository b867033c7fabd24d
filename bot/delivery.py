"""Job events → chat replies: progress edits, the finished clip (posted exactly once), failures."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.commands import Repost
from bot.deps import Deps
from bot.ports import ChatPort, Notice, UploadTooLarge
from bot.replies import ClipReady, Failed, Note, Progress
from bot.rows import chat_ref
from bot.tell import Where, tell
from bot.types import ChatRef, MessageRef
from engine.api import GENERIC_FAILURE
from engine.events import JobEvent
from engine.queue import FIT_CLIP, LightTaskError
from storage import clips, deliveries
from storage import jobs as job_rows
from storage.batching import Batcher
from storage.models import Clip

log = logging.getLogger(__name__)

# A person waiting for a clip wants to see movement, not every percent: 5 % steps are plenty.
MIN_PERCENT_STEP = 5
# A platform that keeps refusing a clip for its size gets ever smaller encodes, until the
# light worker says the clip cannot fit at a watchable quality (engine.encode.MIN_VIDEO_BPS);
# this bounds the tries should a platform's answers never settle.
FIT_ATTEMPTS = 6
# Each refused size asks for 15% less than the last, unless the platform named its limit: small
# steps, since a step past the platform's unknown limit may land below what can be encoded.
SHRINK = 0.85
# A refit is a decode and an encode of a few seconds of video.
FIT_TIMEOUT_S = 120.0
NOT_POSTED = (
    "Your clip is ready, but {} kept refusing it for several minutes, so I stopped trying. "
    "Please ask again a little later."
)


@dataclass
class ProgressThrottle:
    """Remembers the last edit per job so status messages are edited at a sane rate."""

    last: dict[str, tuple[int, float]] = field(default_factory=dict)

    def should_edit(
        self, job_id: str, percent: int, min_interval_s: float, *, min_step: int | None = None
    ) -> bool:
        previous = self.last.get(job_id)
        now = time.monotonic()
        step = MIN_PERCENT_STEP if min_step is None else min_step
        if previous is not None:
            last_percent, last_time = previous
            if percent < last_percent + step or now - last_time < min_interval_s:
                return False
        self.last[job_id] = (percent, now)
        return True

    def forget(self, job_id: str) -> None:
        self.last.pop(job_id, None)


@dataclass(frozen=True)
class Route:
    """Where a job's replies go. Plain data, so the core can keep it from when the command
    came in and skip the database for every progress event."""

    job_id: str
    chat: ChatRef
    author: str
    request: MessageRef | None = None
    status: MessageRef | None = None

    @property
    def where(self) -> Where:
        return Where(self.chat, self.request, self.status)


async def load_route(deps: Deps, job_id: str) -> Route:
    async with deps.db.session() as session:
        job, chat, author = await job_rows.route(session, job_id)
    ref = chat_ref(chat)
    return Route(
        job_id=job.id,
        chat=ref,
        author=author.handle,
        request=MessageRef(ref, job.request_message_id) if job.request_message_id else None,
        status=MessageRef(ref, job.status_message_id) if job.status_message_id else None,
    )


async def show_progress(
    port: ChatPort,
    route: Route,
    event: JobEvent,
    throttle: ProgressThrottle,
    *,
    eta_s: float | None = None,
    preview: bytes | None = None,
) -> MessageRef | None:
    """Edit the status message to the bar (with the time left and the preview frame, if any),
    at the platform's rate. Returns the message that shows the status now when the platform
    had to replace it (a text message cannot become a photo on Telegram), else None."""
    status = route.status
    if status is None or not port.capabilities.edits:
        return None
    percent = max(0, min(99, int(event.fraction * 100)))
    # A new preview frame is worth an edit on its own (the platform's interval still holds).
    step = 0 if preview is not None else None
    interval = port.capabilities.min_edit_interval_s
    if throttle.should_edit(event.job_id, percent, interval, min_step=step):
        stage = event.stage or ("starting" if event.kind == "started" else "working")
        progress = Progress(
            job_id=event.job_id, percent=percent, stage=stage, eta_s=eta_s, preview=preview
        )
        moved = await port.edit(status, progress)
        return moved if moved is not None and moved != status else None
    return None


async def tell_requester(
    deps: Deps, ports: dict[str, ChatPort], job_id: str, reply: Notice
) -> None:
    """Tell the person who asked for a job, where their command was answered; a courtesy that
    is logged, not raised, when it cannot be shown."""
    try:
        route = await load_route(deps, job_id)
    except Exception:
        log.warning("no route to tell the requester", extra={"job_id": job_id})
        return
    port = ports.get(route.chat.platform)
    if port is not None:
        await tell(port, route.where, reply, quietly=True)


async def show_failure(port: ChatPort, route: Route, event: JobEvent) -> None:
    await tell(
        port, route.where, Failed(reason=event.error or GENERIC_FAILURE, job_id=event.job_id)
    )


@dataclass(frozen=True)
class Bookkeeping:
    """Delivery's reads and writes, grouped across the events handled side by side (a burst of
    finished jobs is a few transactions, not three each)."""

    clips: Batcher[str, Clip | None]
    claims: Batcher[deliveries.Target, deliveries.Claim | None]
    sent: Batcher[tuple[deliveries.Target, str], None]

    @classmethod
    def over(cls, deps: Deps) -> Bookkeeping:
        async def clips(job_ids: list[str]) -> list[Clip | Exception | None]:
            async with deps.db.session() as session:
                found = await job_rows.clips_for_jobs(session, job_ids)
            return [found.get(job_id) for job_id in job_ids]

        async def claims(
            targets: list[deliveries.Target],
        ) -> list[deliveries.Claim | Exception | None]:
            async with deps.db.transaction() as session:
                won = await deliveries.claim_outcomes(session, targets, claimant=deps.instance)
            return list(won)

        async def sent(items: list[tuple[deliveries.Target, str]]) -> list[Exception | None]:
            async with deps.db.transaction() as session:
                await deliveries.mark_sent_many(session, items)
            return [None] * len(items)

        return cls(clips=Batcher(clips), claims=Batcher(claims), sent=Batcher(sent))


async def post_clip(
    deps: Deps,
    books: Bookkeeping,
    port: ChatPort,
    route: Route,
    event: JobEvent,
    *,
    featuring: tuple[str, ...] = (),
) -> bool:
    """Post the finished clip unless it was posted already. True if this call posted it."""
    clip = await books.clips(route.job_id)
    if clip is None or clip.deleted:
        log.warning("done event without a live clip", extra={"job_id": route.job_id})
        return False
    assert clip.id is not None
    target = deliveries.Target(
        clip_id=clip.id, platform=route.chat.platform, platform_chat_id=route.chat.chat_id
    )
    claim = await books.claims(target)
    if claim is None:
        return False
    if claim is deliveries.Claim.TAKEN_OVER and await _earlier_upload(deps, port, route, target):
        return False
    return await _send(deps, books, port, route, clip, target, featuring)


async def _send(
    deps: Deps,
    books: Bookkeeping,
    port: ChatPort,
    route: Route,
    clip: Clip,
    target: deliveries.Target,
    featuring: tuple[str, ...],
) -> bool:
    try:
        message = await _send_fitted(deps, port, route, clip, featuring)
    except BaseException as error:
        async with deps.db.transaction() as session:
            if isinstance(error, CannotFit):
                # Settled: not posted, and not to be tried again unasked (/repost may).
                await deliveries.mark_unsure(session, target)
            else:
                await deliveries.release(session, target)
        if isinstance(error, CannotFit):
            await tell(port, route.where, Failed(reason=str(error), job_id=route.job_id))
            return False
        raise
    await books.sent((target, message.message_id))
    await _retire_status(port, route)
    return True


async def _earlier_upload(
    deps: Deps, port: ChatPort, route: Route, target: deliveries.Target
) -> bool:
    """An earlier bot claimed this post and stopped mid-upload, so the clip may be up already.
    Where the platform can be searched, a found message is recorded as the post; where it
    cannot, the post is recorded as unsure and the person may ask for it (`/repost`): a clip
    shown twice is worse than one more command. True when nothing more should be sent now."""
    if port.capabilities.finds_clips:
        found = await port.find_clip(route.chat, target.clip_id)
        if found is None:
            return False
        async with deps.db.transaction() as session:
            await deliveries.mark_sent(session, target, message_id=found.message_id)
        log.info("earlier upload found", extra={"job_id": route.job_id})
        await _retire_status(port, route)
        return True
    async with deps.db.transaction() as session:
        await deliveries.mark_unsure(session, target)
    log.warning("earlier upload unknown; not posting again", extra={"job_id": route.job_id})
    await tell(port, route.where, Note(unsure_note(target.clip_id)))
    return True


def unsure_note(clip_id: int) -> str:
    return (
        f"⚠️ I restarted while posting clip #{clip_id}, so it may be above already. "
        f"If you can't see it, send /repost {clip_id} and I'll post it again."
    )


async def repost(deps: Deps, books: Bookkeeping, port: ChatPort, route: Route, clip: Clip) -> bool:
    """Post a clip whose earlier upload is unknown, because someone asked; False when it is
    not such a clip (posted for sure, or never claimed)."""
    assert clip.id is not None
    target = deliveries.Target(
        clip_id=clip.id, platform=route.chat.platform, platform_chat_id=route.chat.chat_id
    )
    async with deps.db.transaction() as session:
        claimed = await deliveries.claim_unsure(session, target, claimant=deps.instance)
    if not claimed:
        return False
    return await _send(deps, books, port, route, clip, target, ())


async def answer_repost(deps: Deps, books: Bookkeeping, port: ChatPort, command: Repost) -> Note:
    """`/repost N`: post clip N of this chat again if its earlier upload is unknown."""
    if command.clip_id is None:
        note = Note("Say which clip: /repost <number>.")
    else:
        async with deps.db.session() as session:
            found = await clips.clip_in_chat(
                session, command.clip_id, command.chat.platform, command.chat.chat_id
            )
        if found is None:
            note = Note(f"I don't know clip #{command.clip_id} in this chat.")
        elif await repost(deps, books, port, await load_route(deps, found.job_id), found):
            return Note(f"🔁 Clip #{command.clip_id} is posted again.")
        else:
            note = Note(f"Clip #{command.clip_id} is already posted here.")
    await tell(port, Where(command.chat, command.message), note)
    return note


class CannotFit(Exception):
    """The clip cannot be made small enough for the platform; the message says so."""


async def _send_fitted(
    deps: Deps, port: ChatPort, route: Route, clip: Clip, featuring: tuple[str, ...]
) -> MessageRef:
    """Send the clip; when the platform refuses it for its size, ask a light worker for a
    smaller encode and send that, until it fits or cannot be made smaller."""
    key, size = clip.blob_key, clip.size_bytes
    limit = port.capabilities.max_upload_bytes
    try:
        for _ in range(FIT_ATTEMPTS):
            if limit is not None and size > limit:
                key, size = await _refit(deps, clip.blob_key, limit, route)
            video = await deps.blobs.read(key)
            try:
                shown = ready(clip, route, size_bytes=len(video), featuring=featuring)
                return await port.send_clip(route.chat, shown, video, reply_to=route.request)
            except UploadTooLarge as refused:
                smaller = int(len(video) * SHRINK)
                limit = min(refused.limit_bytes or smaller, smaller)
                log.info(
                    "platform refused the clip's size",
                    extra={"job_id": route.job_id, "bytes": len(video)},
                )
        raise CannotFit(_too_big(route))
    finally:
        if key != clip.blob_key:
            await deps.blobs.delete(key)


async def _refit(deps: Deps, original: str, limit: int, route: Route) -> tuple[str, int]:
    if deps.light is None:
        raise CannotFit(_too_big(route))
    try:
        answer = await deps.light.call(
            FIT_CLIP, {"blob_key": original, "max_bytes": limit}, timeout_s=FIT_TIMEOUT_S
        )
    except LightTaskError as error:
        log.info("clip cannot be fitted", extra={"job_id": route.job_id, "reason": str(error)})
        raise CannotFit(_too_big(route)) from error
    return str(answer["blob_key"]), int(answer["size_bytes"])


def _too_big(route: Route) -> str:
    return (
        f"Your clip is too big to post on {route.chat.platform}, even squeezed to the lowest "
        "quality I'd send. Try a shorter clip."
    )


def ready(
    clip: Clip, route: Route, *, size_bytes: int | None = None, featuring: tuple[str, ...] = ()
) -> ClipReady:
    assert clip.id is not None
    return ClipReady(
        job_id=clip.job_id,
        clip_id=clip.id,
        blob_key=clip.blob_key,
        prompt=clip.prompt,
        author=route.author,
        width=clip.width,
        height=clip.height,
        duration_s=clip.duration_s,
        size_bytes=clip.size_bytes if size_bytes is None else size_bytes,
        parent_clip_id=clip.parent_id,
        cameos=featuring,
    )


async def _retire_status(port: ChatPort, route: Route) -> None:
    """The status message has done its job once the clip is up."""
    status = route.status
    if status is None:
        return
    try:
        if port.capabilities.deletes:
            await port.delete(status)
        elif port.capabilities.edits:
            await port.edit(status, Progress(job_id=route.job_id, percent=100, stage="done"))
    except Exception:
        # The clip is posted; a status message that lingers is cosmetic.
        log.warning("could not retire status message", extra={"job_id": route.job_id})

"""The consent conversation: a cameo owner is asked in a direct message, answers with a
button, and hears when a clip with them is up; a request nobody answers expires. Whether a use
is allowed at all is `bot.consent_checks`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from bot import delivery, queue_view
from bot.callbacks import Button
from bot.commands import AnswerConsent
from bot.deps import Deps
from bot.enqueue import enqueue
from bot.errors import BotError
from bot.ports import CannotDM, ChatPort
from bot.replies import Choice, Failed, Note, Queued, Refused, refusal
from bot.rows import chat_user, person, row_id
from bot.tell import tell
from bot.types import ChatRef, MessageRef
from storage import cameos as cameo_rows
from storage import jobs as job_rows
from storage.models import ApprovalState, Chat, Job, JobState, User, utcnow

log = logging.getLogger(__name__)


def waiting_note(handles: Iterable[str], minutes: int) -> Note:
    who = ", ".join(handles)
    return Note(
        f"⏳ Waiting for {who} to OK their cameo: I asked in a direct message. "
        f"If there is no answer within {minutes} minutes, this clip is cancelled."
    )


def request_note(use: cameo_rows.Use, job: Job, requester: User, chat_title: str) -> Note:
    assert use.approval.id is not None
    where = f" in “{chat_title}”" if chat_title else ""
    return Note(
        text=(
            f"🙋 {requester.handle} wants to put your cameo in a clip{where}:\n"
            f"“{job.prompt}”\n\nMay they?"
        ),
        choices=(
            Choice("✅ Approve once", Button("approve", use.approval.id)),
            Choice(f"🤝 Always allow {requester.handle}", Button("always", use.approval.id)),
            Choice("🚫 Deny", Button("deny", use.approval.id)),
        ),
    )


async def ask_owners(deps: Deps, port: ChatPort, job_id: str, chat: ChatRef) -> None:
    """DM each owner whose answer the job waits for. An owner the bot cannot reach means the
    job cannot go ahead: it is cancelled and CannotDM raised for the requester to read."""
    async with deps.db.session() as session:
        job = await job_rows.get_job(session, job_id)
        requester = await session.get(User, job.author_id)
        uses = (await cameo_rows.uses_of_jobs(session, [job_id]))[job_id]
    assert requester is not None
    for use in uses:
        if use.approval.state is not ApprovalState.PENDING:
            continue
        try:
            sent = await port.dm(
                chat_user(use.owner), request_note(use, job, requester, chat.title)
            )
        except CannotDM:
            async with deps.db.transaction() as session:
                await job_rows.transition(session, job_id, JobState.CANCELLED, error="no dm")
                await cameo_rows.set_use_states(
                    session, [row_id(u.approval) for u in uses], ApprovalState.EXPIRED
                )
            raise
        async with deps.db.transaction() as session:
            await cameo_rows.remember_request_message(
                session, row_id(use.approval), sent.chat.chat_id, sent.message_id
            )


_ANSWERED = {
    "approve": "✅ You approved this once.",
    "always": "🤝 You approved, and {who} may use your cameo from now on (/cameo revoke to undo).",
    "deny": "🚫 You said no. {who} has been told.",
}


async def answer(deps: Deps, ports: dict[str, ChatPort], command: AnswerConsent) -> Note | Refused:
    """An owner's press on a consent button. Returns what the presser is shown."""
    async with deps.db.session() as session:
        use = await cameo_rows.use_by_id(session, command.approval_id)
        job = await session.get(Job, use.approval.job_id) if use is not None else None
        requester = await session.get(User, job.author_id) if job is not None else None
    if use is None or job is None or requester is None:
        return Refused("This request is no longer open.")
    if person(command.author) != person(use.owner):
        return Refused(f"Only {use.owner.handle} can answer this request.")
    if (
        use.approval.state is not ApprovalState.PENDING
        or job.state is not JobState.AWAITING_CONSENT
    ):
        return Note(f"This request was already closed ({use.approval.state.value}).")
    state = ApprovalState.DENIED if command.answer == "deny" else ApprovalState.APPROVED
    async with deps.db.transaction() as session:
        if not await cameo_rows.decide_use(
            session, row_id(use.approval), state, only_from=ApprovalState.PENDING
        ):
            return Note("This request was already answered.")
        if command.answer == "always":
            await cameo_rows.grant(session, row_id(use.cameo), row_id(requester))
        if command.answer == "deny":
            await job_rows.transition(session, job.id, JobState.CANCELLED, error="denied")
    done = Note(_ANSWERED[command.answer].format(who=requester.handle))
    await _close_request(ports, use, job, done.text)
    if command.answer == "deny":
        await delivery.tell_requester(
            deps, ports, job.id, Failed(f"{use.owner.handle} said no to being in this clip.")
        )
    else:
        await _go_ahead_if_all_said_yes(deps, ports, job.id)
    return done


async def _go_ahead_if_all_said_yes(deps: Deps, ports: dict[str, ChatPort], job_id: str) -> None:
    async with deps.db.transaction() as session:
        consented = await cameo_rows.consented_cameo_ids(session, job_id)
        if consented is None:
            return  # another owner has yet to answer
        if not await job_rows.transition(session, job_id, JobState.QUEUED):
            return
        job = await job_rows.get_job(session, job_id)
    route = await delivery.load_route(deps, job_id)
    # Its fair place in line and time, as any new clip's (bot.queue_view).
    standing = (await queue_view.snapshot(deps)).of(job_id)
    queued = Queued(
        job_id=job_id,
        position=standing.position,
        prompt=job.prompt,
        remix_of=job.parent_clip_id,
        eta_s=standing.eta_s,
    )
    port = ports.get(route.chat.platform)
    if port is not None:
        await tell(port, route.where, queued, quietly=True)
    try:
        await enqueue(deps, job_id)
    except BotError as error:
        if port is not None:
            await tell(port, route.where, refusal(error), quietly=True)


async def _close_request(
    ports: dict[str, ChatPort], use: cameo_rows.Use, job: Job, outcome: str
) -> None:
    """Edit the owner's DM: the question stays readable, the buttons go, the outcome shows."""
    port = ports.get(use.owner.platform)
    approval = use.approval
    if port is None or approval.dm_chat_id is None or approval.dm_message_id is None:
        return
    message = MessageRef(ChatRef(use.owner.platform, approval.dm_chat_id), approval.dm_message_id)
    try:
        await port.edit(message, Note(f"“{job.prompt}”\n\n{outcome}"))
    except Exception:
        log.warning("could not update the consent request", extra={"job_id": job.id})


async def expire(deps: Deps, ports: dict[str, ChatPort], *, after: timedelta) -> int:
    """Cancel every job whose owners did not answer within `after`; returns how many."""
    async with deps.db.session() as session:
        job_ids = await cameo_rows.expired_waits(session, utcnow() - after)
    minutes = round(after.total_seconds() / 60)
    for job_id in job_ids:
        async with deps.db.transaction() as session:
            if not await job_rows.transition(session, job_id, JobState.CANCELLED, error="expired"):
                continue
            job = await job_rows.get_job(session, job_id)
            uses = (await cameo_rows.uses_of_jobs(session, [job_id]))[job_id]
            pending = [u for u in uses if u.approval.state is ApprovalState.PENDING]
            await cameo_rows.set_use_states(
                session, [row_id(u.approval) for u in pending], ApprovalState.EXPIRED
            )
        who = ", ".join(use.owner.handle for use in pending) or "The cameo owner"
        await delivery.tell_requester(
            deps,
            ports,
            job_id,
            Failed(f"{who} didn't answer within {minutes} minutes, so this clip was cancelled."),
        )
        for use in pending:
            await _close_request(ports, use, job, "⌛ This request expired unanswered.")
    return len(job_ids)


async def tell_owners(deps: Deps, port: ChatPort, job_id: str, clip_id: int) -> None:
    """DM each cameo owner (but the author) that a clip with them is up: where, by whom, how
    closely the face matched, and a button to take it down."""
    async with deps.db.session() as session:
        uses = (await cameo_rows.uses_of_jobs(session, [job_id]))[job_id]
        if not uses:
            return
        job = await job_rows.get_job(session, job_id)
        author = await session.get(User, job.author_id)
        chat = await session.get(Chat, job.chat_id)
    assert author is not None and chat is not None
    where = f" in “{chat.title}”" if chat.title else ""
    for use in uses:
        if use.owner.id == job.author_id:
            continue
        match = use.approval.similarity
        seen = f" Face match: {match:.0%}." if match is not None else ""
        note = Note(
            f"🎬 You're in clip #{clip_id} “{job.prompt}” by {author.handle}{where}.{seen}",
            choices=(Choice("🗑️ Take it down", Button("delete", clip_id)),),
        )
        try:
            await port.dm(chat_user(use.owner), note)
        except Exception:
            # The clip is up either way; the owner still finds it in /cameo clips.
            log.warning("could not tell a cameo owner about a clip", extra={"clip_id": clip_id})

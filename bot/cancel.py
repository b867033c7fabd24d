"""Cancel: the one function behind every Cancel press, on a clip's status message and under
`/admin queue`.

Who may: the person who asked for the clip, an admin of its chat (as the platform says, marked
by the adapter on the press; or an admin who listed `/admin queue` lately, whose list went to
a direct message). A queued job is dropped (its queue message passes its turn on); a rendering
job stops at its next step (the worker watches the row) and keeps nothing; nothing is posted.
The requester is told on their status message.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.admin_commands import CancelJob
from bot.delivery import load_route
from bot.deps import Deps
from bot.ports import ChatPort
from bot.replies import Failed, Note, Refused
from bot.rows import row_id, user_row
from bot.tell import tell
from storage import guardrails
from storage import jobs as job_rows
from storage.models import Chat, Job, JobState, User, utcnow

# A Cancel under /admin queue works for the admin who listed the queue, for this long.
ADMIN_WINDOW = timedelta(hours=1)
DONE = Note("✖️ Cancelled.")
GONE = Refused("That clip is gone.")
FINISHED = Refused("That clip already finished.")


async def cancel_job(deps: Deps, ports: dict[str, ChatPort], command: CancelJob) -> Note | Refused:
    """Cancel the job if the presser may; the answer goes to the presser (an alert)."""
    async with deps.db.transaction() as session:
        job = await session.get(Job, command.job_id)
        if job is None:
            return GONE
        presser = await user_row(session, command.author)
        requester = presser.id == job.author_id
        admin = not requester and await _is_admin(session, command, job, presser)
        if not (requester or admin):
            author = await session.get(User, job.author_id)
            who = author.handle if author is not None else "whoever asked for it"
            return Refused(f"Only {who} or an admin of this chat can cancel this clip.")
        if not await job_rows.transition(session, job.id, JobState.CANCELLED):
            return FINISHED
        metrics.JOBS.labels(outcome="cancelled").inc()
        if admin:
            detail = job.prompt[:80]
            await guardrails.audit(
                session,
                chat_id=job.chat_id,
                actor_id=row_id(presser),
                action="cancel",
                detail=detail,
            )
    route = await load_route(deps, job.id)
    port = ports.get(route.chat.platform)
    if port is not None:
        said = (
            "You cancelled this clip."
            if requester
            else "An admin of this chat cancelled this clip."
        )
        await tell(port, route.where, Failed(said, job.id))
    return DONE


async def _is_admin(session: AsyncSession, command: CancelJob, job: Job, presser: User) -> bool:
    chat = await session.get(Chat, job.chat_id)
    in_its_chat = (
        chat is not None
        and chat.platform == command.chat.platform
        and chat.platform_chat_id == command.chat.chat_id
    )
    if in_its_chat and getattr(command, "is_admin", False):
        return True
    return await guardrails.acted_since(
        session,
        chat_id=job.chat_id,
        actor_id=row_id(presser),
        action="queue",
        since=utcnow() - ADMIN_WINDOW,
    )

"""Is every cameo of a request allowed? Asked when the command comes (the plan), before the
clip is posted, and whenever an owner changes their settings (unfinished jobs they no longer
allow are cancelled).

Every check asks `bot.consent.decide` with the owner's settings as they are at that moment, so
a change of mind between the request and the post is seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot import delivery
from bot.consent import CameoPlan, Decision, Person, PlannedUse, Verdict, decide, still_good
from bot.deps import Deps
from bot.errors import BotError
from bot.ports import ChatPort
from bot.replies import Failed
from bot.rows import chat_user, person, policy, row_id
from bot.types import ChatRef, ChatUser
from storage import cameos as cameo_rows
from storage import jobs as job_rows
from storage.models import ApprovalState, Chat, Clip, JobState, User


class CameoRefused(BotError):
    """A cameo in the request that its owner's settings do not allow for this person here."""


async def verdict_for(
    deps: Deps, use: cameo_rows.OwnedCameo, requester: Person, chat_id: str
) -> Verdict:
    async with deps.db.session() as session:
        granted = await cameo_rows.granted_users(session, row_id(use.cameo))
    grants = frozenset(person(user) for user in granted)
    return decide(policy(use.cameo, use.owner), requester, chat_id, grants)


async def plan_cameos(
    deps: Deps,
    *,
    author: ChatUser,
    chat: ChatRef,
    mentions: Iterable[ChatUser],
    names: Iterable[str],
    parent: Clip | None,
) -> CameoPlan:
    """The cameos a request uses (mentioned, or carried over from the remixed clip) and each
    one's consent now. Raises CameoRefused when any owner's settings refuse this use."""
    mentioned_ids = [user.user_id for user in mentions if user.platform == chat.platform]
    async with deps.db.session() as session:
        found = await cameo_rows.find_cameos(session, chat.platform, mentioned_ids, list(names))
        if parent is not None:
            inherited = await cameo_rows.uses_of_jobs(session, [parent.job_id])
            found += [
                cameo_rows.OwnedCameo(use.cameo, use.owner) for use in inherited[parent.job_id]
            ]
    uses: dict[int, PlannedUse] = {}
    for owned in found:
        cameo_id = row_id(owned.cameo)
        if cameo_id in uses:
            continue
        verdict = await verdict_for(deps, owned, person(author), chat.chat_id)
        if verdict.decision is Decision.REFUSED:
            whose = f"{owned.owner.handle}'s cameo"
            what = "remix this clip" if parent is not None else f"use {whose}"
            raise CameoRefused(f"You can't {what}: {verdict.reason} ({whose})")
        state = (
            ApprovalState.ALLOWED if verdict.decision is Decision.ALLOWED else ApprovalState.PENDING
        )
        uses[cameo_id] = PlannedUse(cameo_id, chat_user(owned.owner), state)
    return CameoPlan(tuple(uses.values()))


@dataclass(frozen=True)
class Recheck:
    # Handles of the owners whose consent is gone (empty: all still agree).
    withdrawn: tuple[str, ...]
    # Handles of everyone whose cameo the clip shows.
    featuring: tuple[str, ...]


async def recheck(deps: Deps, job_id: str) -> Recheck:
    """Is every cameo of this job still allowed? Withdrawn uses are recorded as revoked, so
    the worker's own check agrees. A job without cameos costs one query."""
    async with deps.db.session() as session:
        uses = (await cameo_rows.uses_of_jobs(session, [job_id]))[job_id]
        if not uses:
            return Recheck((), ())
        job = await job_rows.get_job(session, job_id)
        requester = await session.get(User, job.author_id)
        chat_row = await session.get(Chat, job.chat_id)
    assert requester is not None and chat_row is not None
    withdrawn = []
    for use in uses:
        owned = cameo_rows.OwnedCameo(use.cameo, use.owner)
        verdict = await verdict_for(deps, owned, person(requester), chat_row.platform_chat_id)
        said_yes = use.approval.state is ApprovalState.APPROVED
        if use.approval.state not in (ApprovalState.ALLOWED, ApprovalState.APPROVED) or not (
            still_good(verdict, said_yes)
        ):
            withdrawn.append(use)
    if withdrawn:
        async with deps.db.transaction() as session:
            await cameo_rows.set_use_states(
                session, [row_id(use.approval) for use in withdrawn], ApprovalState.REVOKED
            )
    return Recheck(
        withdrawn=tuple(use.owner.handle for use in withdrawn),
        featuring=tuple(use.owner.handle for use in uses),
    )


async def reconsider(deps: Deps, ports: dict[str, ChatPort], cameo_id: int) -> int:
    """After an owner changed their settings: cancel unfinished jobs that may no longer use the
    cameo, and tell their requesters. Returns how many were cancelled."""
    async with deps.db.session() as session:
        active = await cameo_rows.active_uses_of_cameo(session, cameo_id)
    cancelled = 0
    for _, job in active:
        withdrawn = (await recheck(deps, job.id)).withdrawn
        if not withdrawn:
            continue
        async with deps.db.transaction() as session:
            moved = await job_rows.transition(session, job.id, JobState.CANCELLED, error="revoked")
        if moved:
            cancelled += 1
            await delivery.tell_requester(
                deps, ports, job.id, withdrawn_failure(", ".join(withdrawn))
            )
    return cancelled


def withdrawn_failure(who: str, job_id: str | None = None) -> Failed:
    return Failed(
        f"{who} no longer allows their cameo here, so this clip was cancelled.", job_id=job_id
    )

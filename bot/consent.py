"""Who may use whose cameo: one pure function of the owner's settings, the requester, the chat
and the standing grants. Every place that checks consent (the command, the worker's start, the
post) asks this same question, so the answer cannot drift between them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.types import ChatUser
from storage.models import ApprovalState


class Audience(enum.StrEnum):
    ONLY_ME = "only_me"
    APPROVED = "approved"  # the default for a new cameo: every use by someone else asks first
    EVERYONE = "everyone"


class Decision(enum.StrEnum):
    ALLOWED = "allowed"
    NEEDS_APPROVAL = "needs_approval"
    REFUSED = "refused"


@dataclass(frozen=True)
class Person:
    platform: str
    user_id: str


@dataclass(frozen=True)
class CameoPolicy:
    owner: Person
    audience: Audience = Audience.APPROVED
    # When set, the cameo may only be used in these chats (ids of chats the owner is in).
    only_in_chats: frozenset[str] | None = None


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    # Why, in words for the requester; empty when allowed.
    reason: str = ""


def decide(
    policy: CameoPolicy, requester: Person, chat_id: str, grants: frozenset[Person]
) -> Verdict:
    """May `requester` use this cameo in `chat_id`? `grants` are the people the owner chose to
    "always allow"; they matter only for an audience of approved people."""
    if requester == policy.owner:
        return Verdict(Decision.ALLOWED)
    if policy.only_in_chats is not None and chat_id not in policy.only_in_chats:
        return Verdict(Decision.REFUSED, "This cameo can't be used in this chat.")
    if policy.audience is Audience.ONLY_ME:
        return Verdict(Decision.REFUSED, "Only its owner can use this cameo.")
    if policy.audience is Audience.EVERYONE or requester in grants:
        return Verdict(Decision.ALLOWED)
    return Verdict(Decision.NEEDS_APPROVAL, "The owner has been asked to approve this use.")


def still_good(verdict: Verdict, owner_said_yes: bool) -> bool:
    """Is an earlier consent still good now (when the worker starts, before posting)? What the
    settings allow today is; a per-use yes is, while the settings still let the owner be asked;
    anything the settings now refuse is not, whatever was said before."""
    if verdict.decision is Decision.ALLOWED:
        return True
    return verdict.decision is Decision.NEEDS_APPROVAL and owner_said_yes


# The plan a request carries: each cameo it uses, and that use's consent when the command came.
@dataclass(frozen=True)
class PlannedUse:
    cameo_id: int
    owner: ChatUser
    state: ApprovalState


@dataclass(frozen=True)
class CameoPlan:
    uses: tuple[PlannedUse, ...] = ()

    @property
    def waiting(self) -> tuple[PlannedUse, ...]:
        return tuple(use for use in self.uses if use.state is ApprovalState.PENDING)

    @property
    def handles(self) -> tuple[str, ...]:
        return tuple(use.owner.handle for use in self.uses)

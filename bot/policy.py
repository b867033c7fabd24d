"""Chat policies: which preset a chat runs under, what its daily budgets are, and the words a
refusal uses. The presets' numbers live in engine.api (one table, shared with the worker's
checks); this module only chooses among them.

`adult` is only for places the platform marks as adult (Discord's age-restricted channels), or,
where a platform has no such mark (Telegram, the local chat), for an admin who confirmed it
after a warning. Sexual content involving minors is refused in every preset (engine.api).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.api import (
    ADULT,
    CATEGORY_WORDS,
    DEFAULT_PRESET,
    NUDITY,
    PRESET_NAMES,
    PRESETS,
    PUBLIC_FIGURE,
)
from storage.models import ChatPolicy

# Daily budgets when a chat's admins set none; generous, so a lively group never meets them
# by accident (CLIPCREW_DAILY_CLIPS_PER_PERSON and _PER_CHAT change them for every chat).
DEFAULT_PER_PERSON_DAILY = 50
DEFAULT_PER_CHAT_DAILY = 500

ADULT_WARNING = (
    "⚠️ The adult policy lets people here make clips with sexual content between adults. "
    "Only choose it if everyone in this chat is an adult and has agreed to see such clips. "
    "Sexual content involving minors, and anyone's likeness without their consent, stay "
    "refused. To switch it on, send: /admin policy adult confirm"
)
ADULT_NEEDS_MARK = (
    "The adult policy is only available in age-restricted (NSFW) channels. Mark this channel "
    "age-restricted in its settings first."
)


@dataclass(frozen=True)
class Budget:
    """Clips a day: per person in one chat, and for the whole chat."""

    per_person: int = DEFAULT_PER_PERSON_DAILY
    per_chat: int = DEFAULT_PER_CHAT_DAILY


@dataclass(frozen=True)
class ChatRules:
    """What a chat allows, as read when a command comes in."""

    preset: str = DEFAULT_PRESET
    budget: Budget = Budget()

    @property
    def thresholds(self) -> Mapping[str, float]:
        return PRESETS[self.preset]

    @property
    def nudity_threshold(self) -> float:
        """Recorded on each job: the worker's output check blocks frames scoring above it."""
        return PRESETS[self.preset][NUDITY]

    def thresholds_for(self, *, consenting_cameos: bool) -> dict[str, float]:
        """The thresholds for one request. A public-figure likeness is allowed only when the
        face in the clip is a consenting cameo's: a request that uses cameos (each with its
        owner's OK, asked before anything renders, and the output face check after) is not
        judged on it."""
        thresholds = dict(self.thresholds)
        if consenting_cameos:
            thresholds.pop(PUBLIC_FIGURE, None)
        return thresholds


def rules_of(row: ChatPolicy | None, defaults: Budget) -> ChatRules:
    """A chat's rules from its row (None: the defaults)."""
    if row is None:
        return ChatRules(budget=defaults)
    preset = row.preset if row.preset in PRESETS else DEFAULT_PRESET
    budget = Budget(
        per_person=row.per_person_daily or defaults.per_person,
        per_chat=row.per_chat_daily or defaults.per_chat,
    )
    return ChatRules(preset=preset, budget=budget)


def refusal_text(category: str) -> str:
    """The sentence a refused person reads: the category, never the rule that fired."""
    words = CATEGORY_WORDS.get(category, "that kind of content")
    return f"I can't make clips with {words} in this chat."


def preset_named(name: str) -> str | None:
    lowered = name.strip().lower()
    return lowered if lowered in PRESET_NAMES else None


def adult_refusal(*, adult_place: bool | None, confirmed: bool) -> str | None:
    """Why `adult` can't be chosen here yet, or None when it can.

    `adult_place`: True/False where the platform marks places adult (Discord's age-restricted
    channels), None where it has no such mark (then the admin's confirmation is the opt-in)."""
    if adult_place is False:
        return ADULT_NEEDS_MARK
    if adult_place is None and not confirmed:
        return ADULT_WARNING
    return None


def describe(rules: ChatRules) -> str:
    allowed = " (sexual content between adults allowed)" if rules.preset == ADULT else ""
    return (
        f"Policy: {rules.preset}{allowed}. Daily budgets: {rules.budget.per_person} clips per "
        f"person, {rules.budget.per_chat} per chat (reset at midnight UTC)."
    )

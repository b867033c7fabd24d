"""Daily budgets: how many clips one person may make in a chat, and the chat altogether, per
UTC day. Counted when a job is recorded (in the same transaction, so a burst cannot slip past);
jobs that were cancelled or failed to queue give their clip back. Each budget resets at
midnight UTC, which the refusal says, with how long that is from now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import BotError
from bot.policy import Budget
from storage import guardrails


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def until_reset(now: datetime) -> str:
    """ "in 3 h 12 min": how long until the next midnight UTC."""
    left = day_start(now) + timedelta(days=1) - now
    hours, minutes = divmod(max(1, int(left.total_seconds() // 60)), 60)
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"


class OverBudget(BotError):
    def __init__(self, limit: int, *, whole_chat: bool, now: datetime) -> None:
        clips = "clip" if limit == 1 else "clips"
        who = "This chat has" if whole_chat else "You have"
        super().__init__(
            f"{who} made today's {limit} {clips}. The budget resets at midnight UTC "
            f"({until_reset(now)})."
        )
        self.whole_chat = whole_chat


@dataclass
class Book:
    """Today's spending so far, per (person, chat) and per chat; `take` spends one clip."""

    now: datetime
    per_person: dict[tuple[int, int], int] = field(default_factory=dict)
    per_chat: dict[int, int] = field(default_factory=dict)

    def take(self, author_id: int, chat_id: int, budget: Budget) -> OverBudget | None:
        if self.per_chat.get(chat_id, 0) >= budget.per_chat:
            return OverBudget(budget.per_chat, whole_chat=True, now=self.now)
        key = (author_id, chat_id)
        if self.per_person.get(key, 0) >= budget.per_person:
            return OverBudget(budget.per_person, whole_chat=False, now=self.now)
        self.per_person[key] = self.per_person.get(key, 0) + 1
        self.per_chat[chat_id] = self.per_chat.get(chat_id, 0) + 1
        return None


async def open_book(
    session: AsyncSession, *, author_ids: list[int], chat_ids: list[int], now: datetime
) -> Book:
    per_person, per_chat = await guardrails.spent_since(
        session, day_start(now), author_ids=author_ids, chat_ids=chat_ids
    )
    return Book(now=now, per_person=per_person, per_chat=per_chat)

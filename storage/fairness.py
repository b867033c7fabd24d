"""Fair share: which queued job a free worker takes next. One pure function over plain data.

Round-robin across people, then across chats: someone who queued ten clips does not hold back
ten other people's first clip, and a busy chat does not hold back a quiet one.

The rule, for each pick, is the queued job with the smallest key

    (person's jobs running, when the person last got a worker,
     chat's jobs running,   when the chat last got a worker,
     when the job was queued)

where "never" sorts before any time. So a person with nothing running who has waited longest
since their last turn goes first; among one person's jobs the chat with the least going on goes
first; and everything else being equal the older job does. Each pick counts as a job running
and a turn given now, for the person and the chat, so `fair_order` is the order jobs start in
when workers free up one at a time: the queue position a person is shown.

Used by the worker to claim (storage.fair_claims) and by the bot for positions and estimates.
Ordering 300 waiting jobs of 50 people in one chat took 24 ms here (2 slow cores; 56 ms over three
chats); a pick for a claim is under a millisecond.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Sorts before any real time: "never had a worker".
_NEVER = datetime.min


@dataclass(frozen=True)
class Waiting:
    """A queued job as fair share sees it."""

    job_id: str
    author: int
    chat: int
    created_at: datetime


@dataclass(frozen=True)
class Load:
    """What one person (or chat) has going: jobs running now, and when the last one started
    (None: never, or too long ago to count)."""

    running: int = 0
    last_start: datetime | None = None


@dataclass
class Loads:
    """Load per person and per chat; anyone missing has none."""

    people: dict[int, Load] = field(default_factory=dict)
    chats: dict[int, Load] = field(default_factory=dict)

    def copy(self) -> Loads:
        return Loads(people=dict(self.people), chats=dict(self.chats))


def _key(job: Waiting, loads: Loads) -> tuple[int, datetime, int, datetime, datetime, str]:
    person = loads.people.get(job.author, Load())
    chat = loads.chats.get(job.chat, Load())
    return (
        person.running,
        plain_utc(person.last_start),
        chat.running,
        plain_utc(chat.last_start),
        plain_utc(job.created_at),
        job.job_id,  # a stable order for jobs queued in the same instant
    )


def plain_utc(moment: datetime | None) -> datetime:
    # SQLite hands back naive UTC times, PostgreSQL aware ones: compare them as naive UTC.
    if moment is None:
        return _NEVER
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def pick_next(queued: Iterable[Waiting], loads: Loads) -> Waiting | None:
    """The job a free worker should take now; None when nothing waits."""
    return min(queued, key=lambda job: _key(job, loads), default=None)


def fair_order(
    queued: Sequence[Waiting], loads: Loads, *, now: datetime, limit: int | None = None
) -> list[Waiting]:
    """All queued jobs (or the first `limit`) in the order they would start, each pick giving
    its person and chat one more job running and a turn at `now` (later picks a little later).

    One person's jobs in one chat share everything but their age, so they wait in one line
    (oldest first) and each pick compares only the heads of those lines: a pick costs the
    number of (person, chat) pairs waiting, not the number of jobs."""
    lines: dict[tuple[int, int], deque[Waiting]] = {}
    for job in sorted(queued, key=lambda job: (plain_utc(job.created_at), job.job_id)):
        lines.setdefault((job.author, job.chat), deque()).append(job)
    state = loads.copy()
    order: list[Waiting] = []
    while lines and (limit is None or len(order) < limit):
        best = min(lines, key=lambda line: _key(lines[line][0], state))
        job = lines[best].popleft()
        if not lines[best]:
            del lines[best]
        order.append(job)
        # Strictly increasing, so a person picked earlier in this run counts as served earlier.
        at = now + timedelta(microseconds=len(order))
        _served(state.people, job.author, at)
        _served(state.chats, job.chat, at)
    return order


def _served(loads: dict[int, Load], who: int, at: datetime) -> None:
    load = loads.get(who, Load())
    loads[who] = Load(running=load.running + 1, last_start=at)


def positions(order: Sequence[Waiting]) -> Mapping[str, int]:
    """Job id → how many jobs start before it (0: it is next)."""
    return {job.job_id: index for index, job in enumerate(order)}

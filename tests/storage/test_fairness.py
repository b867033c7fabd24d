"""Fair share as a table: who goes next, and the whole order a queue would start in."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.fairness import Load, Loads, Waiting, fair_order, pick_next, positions

T0 = datetime(2026, 11, 29, 12, 0, 0)


def queue(*spec: str) -> list[Waiting]:
    """ "a1@x" is person a's job 1 in chat x; jobs are queued a second apart, in order."""
    jobs = []
    for index, item in enumerate(spec):
        name, _, chat = item.partition("@")
        person = ord(name[0]) - ord("a") + 1
        jobs.append(
            Waiting(
                job_id=name,
                author=person,
                chat=ord(chat or "x"),
                created_at=T0 + timedelta(seconds=index),
            )
        )
    return jobs


def person(letter: str) -> int:
    return ord(letter) - ord("a") + 1


AGO = T0 - timedelta(minutes=1)
LONG_AGO = T0 - timedelta(hours=1)

TABLE = [
    # (queued, loads, expected order)
    pytest.param(queue("a1", "b1"), Loads(), ["a1", "b1"], id="first come first served"),
    pytest.param(
        queue(*[f"a{i}" for i in range(1, 11)], "b1", "c1", "d1"),
        Loads(),
        ["a1", "b1", "c1", "d1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"],
        id="ten of one person do not hold back three others",
    ),
    pytest.param(
        queue("a2", "a3", "b1"),
        Loads(people={person("a"): Load(running=1, last_start=AGO)}),
        ["b1", "a2", "a3"],
        id="someone with a job running waits for those with none",
    ),
    pytest.param(
        queue("a2", "b2"),
        Loads(people={person("a"): Load(last_start=AGO), person("b"): Load(last_start=LONG_AGO)}),
        ["b2", "a2"],
        id="nothing running: whoever had a worker longest ago",
    ),
    pytest.param(
        queue("a1@x", "a2@x", "a3@y"),
        Loads(),
        ["a1", "a3", "a2"],
        id="one person's jobs alternate between their chats",
    ),
    pytest.param(
        queue("a1@x", "b1@x", "c1@y"),
        Loads(chats={ord("x"): Load(running=1, last_start=AGO)}),
        ["c1", "a1", "b1"],
        id="a quiet chat goes before a busy one",
    ),
    pytest.param(
        queue("a1", "a2", "b1", "b2", "c1"),
        Loads(),
        ["a1", "b1", "c1", "a2", "b2"],
        id="round robin over three people",
    ),
    pytest.param([], Loads(), [], id="nothing waits"),
]


@pytest.mark.parametrize(("queued", "loads", "expected"), TABLE)
def test_fair_order(queued: list[Waiting], loads: Loads, expected: list[str]) -> None:
    order = fair_order(queued, loads, now=T0)
    assert [job.job_id for job in order] == expected
    # The next pick is the order's first, and positions count from 0.
    picked = pick_next(queued, loads)
    assert (picked.job_id if picked else None) == (expected[0] if expected else None)
    assert positions(order) == {job_id: index for index, job_id in enumerate(expected)}


def test_limit_stops_early_and_the_loads_given_are_left_alone() -> None:
    loads = Loads(people={person("a"): Load(running=1)})
    order = fair_order(queue("a1", "b1", "c1"), loads, now=T0, limit=2)
    assert [job.job_id for job in order] == ["b1", "c1"]
    assert loads.people == {person("a"): Load(running=1)}

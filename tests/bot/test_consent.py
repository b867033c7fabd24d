"""The consent decision as a table: every audience against every kind of requester."""

from __future__ import annotations

import pytest

from bot.consent import Audience, CameoPolicy, Decision, Person, decide

OWNER = Person("telegram", "1")
FRIEND = Person("telegram", "2")  # holds a standing "always allow" grant
STRANGER = Person("telegram", "3")
SAME_ID_ELSEWHERE = Person("discord", "1")  # the owner's id, but on another platform
GRANTS = frozenset({FRIEND})

A, N, R = Decision.ALLOWED, Decision.NEEDS_APPROVAL, Decision.REFUSED


@pytest.mark.parametrize(
    ("audience", "requester", "chat", "limited_to", "expected"),
    [
        # The owner may always use their own cameo, even where others may not.
        (Audience.ONLY_ME, OWNER, "c1", None, A),
        (Audience.APPROVED, OWNER, "elsewhere", frozenset({"c1"}), A),
        # Only me: nobody else, grant or not.
        (Audience.ONLY_ME, FRIEND, "c1", None, R),
        (Audience.ONLY_ME, STRANGER, "c1", None, R),
        # Approved people: a grant allows, anyone else is asked about.
        (Audience.APPROVED, FRIEND, "c1", None, A),
        (Audience.APPROVED, STRANGER, "c1", None, N),
        (Audience.APPROVED, SAME_ID_ELSEWHERE, "c1", None, N),
        # Everyone: allowed without asking.
        (Audience.EVERYONE, STRANGER, "c1", None, A),
        # Limited to the owner's chats: outside them nobody else may, whatever the audience.
        (Audience.EVERYONE, STRANGER, "c1", frozenset({"c1"}), A),
        (Audience.EVERYONE, STRANGER, "c2", frozenset({"c1"}), R),
        (Audience.APPROVED, FRIEND, "c2", frozenset({"c1"}), R),
        (Audience.APPROVED, STRANGER, "c1", frozenset({"c1"}), N),
    ],
)
def test_consent_table(
    audience: Audience,
    requester: Person,
    chat: str,
    limited_to: frozenset[str] | None,
    expected: Decision,
) -> None:
    policy = CameoPolicy(owner=OWNER, audience=audience, only_in_chats=limited_to)
    verdict = decide(policy, requester, chat, GRANTS)
    assert verdict.decision is expected
    assert (verdict.reason == "") == (expected is A)


def test_a_new_cameo_asks_before_anyone_else_uses_it() -> None:
    assert CameoPolicy(owner=OWNER).audience is Audience.APPROVED
    assert decide(CameoPolicy(owner=OWNER), STRANGER, "c1", frozenset()).decision is N

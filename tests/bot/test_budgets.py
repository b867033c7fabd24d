"""Daily budgets (bot.budgets): the reset time a refusal names."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.budgets import until_reset


def test_the_reset_time_counts_to_midnight_utc() -> None:
    assert until_reset(datetime(2026, 11, 29, 21, 48, tzinfo=UTC)) == "in 2 h 12 min"
    assert until_reset(datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == "in 30 min"

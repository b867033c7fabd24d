from __future__ import annotations

import pytest

from bot.errors import ControlCharacters, EmptyPrompt, PromptTooLong
from bot.prompt import parse_prompt
from engine.request import Line


def test_trims_and_folds_whitespace() -> None:
    assert parse_prompt("  a   cat\n on\ta  skateboard  ", max_chars=100).text == (
        "a cat on a skateboard"
    )


def test_extracts_mentions_once_each_in_order() -> None:
    parsed = parse_prompt("@ann and @bob_2 meet @ann at mail@example.com.", max_chars=200)
    assert parsed.mentions == ("ann", "bob_2")


def test_extracts_dialogue_with_and_without_speakers() -> None:
    parsed = parse_prompt('a cat says "hello" then Big Dog: “woof woof” and "  "', max_chars=200)
    assert parsed.dialogue == (
        Line(text="hello"),
        Line(text="woof woof", speaker="Big Dog"),
    )


def test_limit_counts_after_trimming() -> None:
    assert parse_prompt("  " + "x" * 10 + "  ", max_chars=10).text == "x" * 10
    with pytest.raises(PromptTooLong, match="11 characters"):
        parse_prompt("x" * 11, max_chars=10)


@pytest.mark.parametrize("raw", ["", " ", "\n\n", "\t"])
def test_empty(raw: str) -> None:
    with pytest.raises(EmptyPrompt):
        parse_prompt(raw, max_chars=10)


@pytest.mark.parametrize("raw", ["bell\x07", "nul\x00", "esc\x1b[0m", "del\x7f", "c1\x85"])
def test_control_characters_refused(raw: str) -> None:
    with pytest.raises(ControlCharacters):
        parse_prompt(raw, max_chars=100)


def test_emoji_and_joiners_are_fine() -> None:
    assert parse_prompt("👩‍🚀 in space", max_chars=100).text == "👩‍🚀 in space"

"""Any text as a prompt: a ParsedPrompt that keeps the limits, or a BotError with a sentence."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.errors import BotError
from bot.prompt import ParsedPrompt, extract_dialogue, parse_prompt
from tests.fuzz.profile import FUZZ, TEXT

ALLOWED_CONTROLS = "\n\r\t"


def parsed_or_refused(raw: str, max_chars: int) -> ParsedPrompt | BotError:
    try:
        return parse_prompt(raw, max_chars=max_chars)
    except BotError as error:  # any other exception fails the test
        return error


@FUZZ
@given(raw=TEXT, max_chars=st.integers(min_value=1, max_value=1000))
def test_any_text_is_a_prompt_or_a_readable_refusal(raw: str, max_chars: int) -> None:
    result = parsed_or_refused(raw, max_chars)
    if isinstance(result, BotError):
        sentence = str(result)
        assert sentence.endswith(".") and len(sentence.split()) >= 5, sentence
        return
    text = result.text
    assert 0 < len(text) <= max_chars
    assert text == text.strip() and "  " not in text
    # Nothing unprintable is kept, and what is kept can be stored and sent (UTF-8).
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
    text.encode("utf-8")
    for mention in result.mentions:
        assert f"@{mention}" in text and 0 < len(mention) <= 32
    assert len(set(result.mentions)) == len(result.mentions)
    assert result.dialogue == extract_dialogue(text)


@FUZZ
@given(text=TEXT)
def test_dialogue_lines_come_from_the_text(text: str) -> None:
    for line in extract_dialogue(text):
        assert line.text and line.text == line.text.strip()
        assert len(line.text) <= 300 and line.text in text
        assert not set('"“”') & set(line.text)
        if line.speaker is not None:
            assert line.speaker in text and len(line.speaker.split()) <= 3


@FUZZ
@given(
    words=st.lists(
        st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1),
        min_size=1,
        max_size=5,
    ),
    said=st.text(
        st.characters(exclude_characters='"“”', categories=["L", "N", "P", "Zs"]),
        min_size=1,
        max_size=300,
    ),
)
def test_quoted_text_is_spoken(words: list[str], said: str) -> None:
    prompt = f'{" ".join(words)} says "{said}"'
    lines = extract_dialogue(prompt)
    if said.strip():
        assert lines[-1].text == said.strip()
    else:
        assert lines == ()


@FUZZ
@given(raw=TEXT)
def test_over_the_limit_is_refused_with_both_numbers(raw: str) -> None:
    folded = " ".join(raw.split())
    result = parsed_or_refused(raw + " " + "x" * 1001, max_chars=1000)
    assert isinstance(result, BotError)
    if "characters long" in str(result):
        assert f"{len(folded) + 1002 if folded else 1001:,}" in str(result)
        assert "1,000" in str(result)

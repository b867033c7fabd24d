"""Prompt parsing: trim, validate, and pull out what later steps need (mentions, dialogue)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.errors import BrokenText, ControlCharacters, EmptyPrompt, PromptTooLong

# The engine's own type for a line of dialogue: what the bot extracts is what the engine speaks.
from engine.request import Line

# Newlines and tabs are ordinary whitespace in a prompt; every other control character is not.
_ALLOWED_CONTROLS = frozenset("\n\r\t")
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.]{0,31})")
# `"line"`, `“line”`, or `Name: "line"`: a name is up to three capitalised words (or an
# @mention) right before the colon, so "then Big Dog: ..." names "Big Dog".
_DIALOGUE = re.compile(
    r"(?:(?P<speaker>(?:@\w+|[A-Z][\w'-]*)(?: [A-Z][\w'-]*){0,2})\s*:\s*)?"
    r"[\"“](?P<text>[^\"“”]{1,300})[\"”]"
)


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    mentions: tuple[str, ...] = ()
    dialogue: tuple[Line, ...] = ()


def parse_prompt(raw: str, *, max_chars: int) -> ParsedPrompt:
    """Validate a prompt and extract its parts. Raises a BotError whose text the person reads."""
    if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in raw):
        raise ControlCharacters()
    if any("\ud800" <= ch <= "\udfff" for ch in raw):
        # A lone surrogate (JSON's "\ud800") would be accepted here and crash the job's insert.
        raise BrokenText()
    text = " ".join(raw.split())
    if not text:
        raise EmptyPrompt()
    if len(text) > max_chars:
        raise PromptTooLong(len(text), max_chars)
    mentions = tuple(dict.fromkeys(m.rstrip(".") for m in _MENTION.findall(text)))
    return ParsedPrompt(text=text, mentions=mentions, dialogue=extract_dialogue(text))


def extract_dialogue(text: str) -> tuple[Line, ...]:
    """The quoted lines of a prompt, in order, with their speakers where named."""
    return tuple(
        Line(text=m["text"].strip(), speaker=m["speaker"])
        for m in _DIALOGUE.finditer(text)
        if m["text"].strip()
    )

"""The core's dispatch (bot.service): commands answered with usage help, refusals of bad input,
and the configured command name; with a recording chat port, a real database and a recording
queue."""

from __future__ import annotations

import pytest

from bot.commands import Help, Unknown
from bot.replies import Refused, Usage
from storage.blobs import BlobStore
from storage.db import Database
from tests.bot.harness import Bot, jobs, make_bot, sora
from tests.fakes import CHAT, message, person


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t "])
async def test_empty_prompt_gets_usage_help_and_records_nothing(bot: Bot, prompt: str) -> None:
    reply = await bot.core.handle(sora(prompt))
    assert isinstance(reply, Usage)
    assert "/sora" in reply.text and "Tell me what should happen" in reply.text
    assert bot.port.of("post")[0].reply_to == message("m1")
    assert await jobs(bot.db) == [] and bot.queue.enqueued == []


async def test_too_long_prompt_is_refused_with_the_numbers(bot: Bot) -> None:
    reply = await bot.core.handle(sora("x" * 10_000))
    assert isinstance(reply, Refused)
    assert "10,000" in reply.text and "1,000" in reply.text
    assert await jobs(bot.db) == [] and bot.queue.enqueued == []


async def test_control_characters_are_refused(bot: Bot) -> None:
    reply = await bot.core.handle(sora("a cat\x00 with a \x1b[31m hat"))
    assert isinstance(reply, Refused) and "control characters" in reply.text
    assert await jobs(bot.db) == []


async def test_unknown_command_and_help_get_usage(bot: Bot) -> None:
    unknown = await bot.core.handle(Unknown(name="dance", author=person(), chat=CHAT))
    assert isinstance(unknown, Usage) and "I don't know /dance" in unknown.text
    helped = await bot.core.handle(Help(author=person(), chat=CHAT))
    assert isinstance(helped, Usage) and helped.text.startswith("Usage: /sora")


async def test_configured_command_name_shows_in_help(sqlite_db: Database, blobs: BlobStore) -> None:
    bot = make_bot(sqlite_db, blobs, command="clip")
    reply = await bot.core.handle(Help(author=person(), chat=CHAT))
    assert "/clip <what should happen>" in reply.text

from __future__ import annotations

from bot.commands import Generate, Help, Unknown
from bot.text_commands import parse_command
from tests.fakes import CHAT, message, person


def parse(text: str, **kw: object) -> object:
    return parse_command(
        text, command_name="sora", author=person(), chat=CHAT, message=message("m"), **kw
    )  # type: ignore[arg-type]


def test_generate_keeps_the_rest_verbatim() -> None:
    command = parse('/sora a cat says "hi"', reply_to=message("r"))
    assert isinstance(command, Generate)
    assert command.prompt == 'a cat says "hi"' and command.reply_to == message("r")


def test_bare_command_is_generate_with_empty_prompt() -> None:
    command = parse("/sora")
    assert isinstance(command, Generate) and command.prompt == ""


def test_case_and_bot_addressing() -> None:
    assert isinstance(parse("/SORA@clipbot x", bot_username="ClipBot"), Generate)
    assert parse("/sora@otherbot x", bot_username="clipbot") is None


def test_plain_text_is_not_a_command() -> None:
    assert parse("hello /sora") is None
    assert parse("/") is None


def test_help_and_unknown() -> None:
    assert isinstance(parse("/help"), Help)
    assert isinstance(parse("/start"), Help)
    unknown = parse("/dance now")
    assert isinstance(unknown, Unknown) and unknown.name == "dance"
    assert parse("/soraa x") == Unknown(
        name="soraa", author=person(), chat=CHAT, message=message("m")
    )

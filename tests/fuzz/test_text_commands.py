"""Chat text as a command (the local chat, and the names Telegram's commands land on): a
command or None, and through the real core always an answer, never an exception."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.commands import CameoCommand, Generate, Help, Unknown
from bot.feed_commands import RemixByNumber, ShowFeed
from bot.replies import Reply
from bot.text_commands import HELP_NAMES, parse_command
from bot.types import ChatRef, ChatUser, MessageRef
from storage.blobs import BlobStore
from storage.db import Database
from tests.bot.harness import make_bot
from tests.fakes import CHAT, message, person
from tests.fuzz.profile import FUZZ, FUZZ_SLOW, TEXT

AUTHOR = ChatUser("test", "u1", "Ada", "ada")
ROOM = ChatRef("test", "room")
NAMES = ["sora", "help", "start", "cameo", "feed", "remix", "admin", "SORA", "nope", "x" * 32]
# Text shaped like a command: a known or random name, maybe addressed to a bot, then anything.
commands = st.builds(
    lambda lead, name, bot, gap, rest: f"{lead}/{name}{bot}{gap}{rest}",
    st.sampled_from(["", " ", "\n", "\u00a0"]),
    st.sampled_from(NAMES) | st.text("abcXYZ019_é", min_size=0, max_size=34),
    st.sampled_from(["", "@clipcrew_bot", "@ClipCrew_Bot", "@otherbot", "@", "@@x"]),
    st.sampled_from(["", " ", "  ", "\n", "\t"]),
    TEXT,
)
anything = commands | TEXT


def parse(text: str, *, bot_username: str | None = "clipcrew_bot") -> object:
    return parse_command(
        text,
        command_name="sora",
        author=AUTHOR,
        chat=ROOM,
        message=MessageRef(ROOM, "m1"),
        bot_username=bot_username,
    )


@FUZZ
@given(text=anything, bot_username=st.sampled_from(["clipcrew_bot", None]))
def test_any_text_is_a_command_or_chat(text: str, bot_username: str | None) -> None:
    command = parse(text, bot_username=bot_username)
    match = re.match(r"\s*/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(\s+|$)", text)
    if command is None:
        addressee = match[2] if match else None
        assert match is None or (addressee and bot_username and addressee.lower() != "clipcrew_bot")
        return
    assert match is not None and text.lstrip().startswith("/")
    assert command.author == AUTHOR and command.chat == ROOM  # type: ignore[attr-defined]
    name = match[1].lower()
    rest = text.lstrip()[match.end() - (len(text) - len(text.lstrip())) :]
    if isinstance(command, Generate):
        assert name == "sora" and command.prompt == rest and text.endswith(command.prompt)
    elif isinstance(command, Unknown):
        assert command.name == name and command.name not in {"sora", "cameo", "feed", "remix"}
    elif isinstance(command, Help):
        assert name in HELP_NAMES
    else:  # /cameo, /feed, /remix, /admin: the words after the name, trimmed
        assert getattr(command, "args", None) == rest.strip()
        kinds = {CameoCommand: "cameo", ShowFeed: "feed", RemixByNumber: "remix"}
        assert kinds.get(type(command), name) == name


@FUZZ
@given(name=st.text("abcdefghijklmnopqrstuvwxyzABC0123456789_", min_size=1, max_size=32), rest=TEXT)
def test_a_command_name_is_read_case_blind_and_the_rest_kept(name: str, rest: str) -> None:
    command = parse(f"/{name} {rest}")
    expected = {"sora": Generate, "cameo": CameoCommand, "feed": ShowFeed, "help": Help}
    assert command is not None
    assert isinstance(command, expected.get(name.lower(), object))
    if isinstance(command, Generate):
        assert command.prompt == rest.lstrip()


@FUZZ_SLOW
@given(text=commands)
async def test_the_core_answers_any_command_text(
    text: str, sqlite_db: Database, blobs: BlobStore
) -> None:
    """Each parsed command goes through the real core on a real database (one per test, so
    the examples pile up clips and limits as a busy chat would): it answers, a refusal
    counts, and never raises."""
    bot = make_bot(sqlite_db, blobs)
    command = parse_command(
        text, command_name="sora", author=person(1), chat=CHAT, message=message("m", CHAT)
    )
    if command is None:
        return
    reply = await bot.core.handle(command)
    assert isinstance(reply, Reply)
    assert bot.port.sent, "nothing was said in the chat"

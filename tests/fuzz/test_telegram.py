"""Telegram updates with fuzzed text, entities, captions, replies, button data and file sizes,
built by PTB's own `Update.de_json` and dispatched by the real Application through the
adapter's handlers (Bot API calls go to the emulator): a command for the core, a clean refusal
of a bad button, or nothing; never an error in a handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import ContextTypes

from adapters.telegram.app import TelegramApp, build_application
from adapters.telegram.convert import REMIX_PROMPT
from adapters.telegram.handlers import Handlers
from adapters.telegram.port import TelegramPort
from bot.callbacks import Button, sign
from bot.commands import Generate, Remix, SelfieUpload
from bot.replies import Note
from clipcrew.config import telegram_config
from tests.adapters.telegram.conftest import telegram_settings
from tests.adapters.telegram.emulator import BOT, BotApi
from tests.adapters.telegram.fakes import RecordingCore
from tests.fuzz.profile import FUZZ

Json = dict[str, Any]
# Telegram delivers valid UTF-8: any code point but a lone surrogate.
chars = st.characters(codec="utf-8")
# Emoji are two UTF-16 units (entities count in those), joined ones several.
pieces = st.sampled_from(["a", " ", "@bob", "👩‍🚀", "é", "/"])
words = st.text(chars, max_size=60) | st.lists(pieces, max_size=12).map("".join)
NAMES = ["sora", "help", "start", "cameo", "feed", "remix", "SORA", "nope"]


def u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


users = st.builds(
    lambda uid, bot, first, username: {
        "id": uid,
        "is_bot": bot,
        "first_name": first,
        **({"username": username} if username else {}),
    },
    st.integers(1, 2**52),
    st.booleans(),
    st.text(chars, min_size=1, max_size=20),
    st.none() | st.from_regex(r"[A-Za-z][A-Za-z0-9_]{3,31}", fullmatch=True),
)
chats = st.one_of(
    st.builds(
        lambda cid, title: {"id": cid, "type": "supergroup", "title": title},
        st.integers(-(2**52), -1),
        st.text(chars, min_size=1, max_size=30),
    ),
    st.builds(lambda cid: {"id": cid, "type": "private", "first_name": "P"}, st.integers(1, 2**52)),
)
texts = (
    st.builds(
        lambda name, addressee, rest: f"/{name}{addressee} {rest}",
        st.sampled_from(NAMES) | st.from_regex(r"[a-z_]{1,33}", fullmatch=True),
        st.sampled_from(["", "@clipcrew_bot", "@otherbot"]),
        words,
    )
    | words
)


@st.composite
def entities(draw: st.DrawFn, text: str) -> list[Json]:
    """Entities where Telegram puts them (a leading command, each @name), each perhaps shifted
    by one UTF-16 unit (into an emoji's middle), and some anywhere, past the end too."""
    size = u16(text)
    found: list[Json] = []
    at_names = [u16(text[:i]) for i, ch in enumerate(text) if ch == "@"]
    for offset in ([0] if text.startswith("/") else []) + at_names:
        shift = draw(st.sampled_from([0, 0, -1, 1]))
        kind = "bot_command" if offset == 0 and text.startswith("/") else "mention"
        found.append({"type": kind, "offset": max(offset + shift, 0), "length": 4})
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["mention", "text_mention", "bold", "url"]))
        entity: Json = {
            "type": kind,
            "offset": draw(st.integers(0, size + 2)),
            "length": draw(st.integers(1, size + 3)),
        }
        if kind == "text_mention":
            entity["user"] = draw(users)
        found.append(entity)
    return sorted(found, key=lambda entity: entity["offset"])


@st.composite
def messages(draw: st.DrawFn) -> Json:
    chat, author = draw(chats), draw(users)
    message: Json = {
        "message_id": draw(st.integers(1, 2**31)),
        "date": 0,
        "chat": chat,
        "from": author,
    }
    kind = draw(st.sampled_from(["text", "text", "reply", "video"]))
    if kind == "video":
        media = {
            "file_id": "f",
            "file_unique_id": "u",
            "width": 64,
            "height": 64,
            "duration": draw(st.integers(0, 10**6)),
            "file_size": draw(st.none() | st.integers(0, 2**53)),
        }
        if draw(st.booleans()):
            message["video"] = media
        else:  # a round video note: square, its side as `length`
            del media["width"], media["height"]
            message["video_note"] = media | {"length": 64}
        caption = draw(texts)
        message |= {"caption": caption, "caption_entities": draw(entities(caption))}
        return message
    text = draw(texts)
    message |= {"text": text, "entities": draw(entities(text))}
    if kind == "reply":
        clip = draw(
            st.integers(0, 10**30).map(str)
            | st.from_regex(r"[0-9\u0660-\u0669]{1,8}", fullmatch=True)
        )
        quoted = REMIX_PROMPT.format(clip_id=clip, who="someone")
        message["reply_to_message"] = {
            "message_id": 1,
            "date": 0,
            "chat": chat,
            "from": draw(st.sampled_from([BOT, author])),
            "text": draw(st.sampled_from([quoted, quoted[:12], ""])) or "x",
        }
    return message


@st.composite
def presses(draw: st.DrawFn, secret: bytes) -> Json:
    chat = draw(chats)
    data = draw(
        st.text(chars, max_size=64).filter(lambda d: len(d.encode()) <= 64)
        | st.builds(
            lambda cid, clip: sign(Button("reroll", clip), chat_id=str(cid), secret=secret),
            st.just(chat["id"]) | st.integers(),
            st.integers(0, 2**40),
        )
    )
    return {
        "id": "q1",
        "from": draw(users),
        "chat_instance": "ci",
        "data": data,
        "message": {"message_id": 5, "date": 0, "chat": chat, "from": BOT, "text": "clip"},
    }


@dataclass
class Dispatch:
    application: TelegramApp
    core: RecordingCore
    api: BotApi
    secret: bytes
    errors: list[BaseException] = field(default_factory=list)

    async def process(self, update: Json) -> None:
        parsed = Update.de_json({"update_id": 1, **update}, self.application.bot)
        assert parsed is not None
        await self.application.process_update(parsed)
        assert self.errors == []


@pytest.fixture
async def dispatch(tmp_path: Path) -> AsyncIterator[Dispatch]:
    """The real Application with the adapter's handlers, its bot initialized (getMe) against the
    emulator; updates are handed to `process_update` one at a time, errors recorded."""
    api = BotApi()
    await api.start()
    config = telegram_config(telegram_settings(tmp_path, api))

    async def answer(command: object) -> Note:
        return Note("Noted.")

    core = RecordingCore(respond=answer)
    application = build_application(config)
    port = TelegramPort(application.bot, secret=config.secret)
    core.attach(port)
    Handlers(core=core, secret=config.secret, port=port, command="sora").install(application)
    running = Dispatch(application, core, api, config.secret)

    async def record(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        running.errors.append(context.error)

    application.add_error_handler(record)
    await application.initialize()
    yield running
    await application.shutdown()
    await api.close()


# A mention entity that starts inside an emoji's surrogate pair.
CUT_EMOJI = {
    "message_id": 1,
    "date": 0,
    "chat": {"id": 5, "type": "private", "first_name": "P"},
    "from": {"id": 5, "is_bot": False, "first_name": "P"},
    "text": "/sora 👩‍🚀 @bob",
    "entities": [
        {"type": "bot_command", "offset": 0, "length": 5},
        {"type": "mention", "offset": 7, "length": 3},
    ],
}


@FUZZ
@example(raw=CUT_EMOJI)
@given(raw=messages())
async def test_any_message_is_a_command_or_nothing(raw: Json, dispatch: Dispatch) -> None:
    await dispatch.process({"message": raw})
    while not dispatch.core.commands.empty():
        command = dispatch.core.commands.get_nowait()
        assert command.author.user_id == str(raw["from"]["id"])  # type: ignore[union-attr]
        if isinstance(command, Generate | Remix):
            assert (raw.get("text") or raw["caption"]).endswith(command.prompt)
        if isinstance(command, SelfieUpload):
            assert raw["chat"]["type"] == "private"
            assert command.size_bytes == (raw.get("video") or raw["video_note"]).get("file_size")


@FUZZ
@given(data=st.data())
async def test_any_button_data_is_verified_or_refused_in_words(
    data: st.DataObject, dispatch: Dispatch
) -> None:
    raw = data.draw(presses(dispatch.secret))
    before = len(dispatch.api.calls)
    await dispatch.process({"callback_query": raw})
    answers = [c for c in dispatch.api.calls[before:] if c.method == "answerCallbackQuery"]
    assert len(answers) == 1
    if dispatch.core.commands.empty():  # refused: the presser is told why, the core hears nothing
        assert answers[0].params["text"].startswith("That button isn't valid")
    else:
        dispatch.core.commands.get_nowait()

"""What a tab may send: every bad frame becomes a BadFrame with a code and a readable message."""

from __future__ import annotations

import json

import pytest

from adapters.local.frames import MAX_TEXT_CHARS, BadFrame, Hello, Press, Send, parse_frame


def frame(**fields: object) -> str:
    return json.dumps(fields)


def test_hello_trims_the_name() -> None:
    assert parse_frame(frame(type="hello", name="  Ada  ", user_id="u1234567890")) == Hello(
        name="Ada", user_id="u1234567890"
    )


def test_send_keeps_text_and_reply() -> None:
    parsed = parse_frame(frame(type="send", text=' /sora a cat says "hi" ', reply_to="abc-3"))
    assert parsed == Send(text='/sora a cat says "hi"', reply_to="abc-3")


def test_send_and_press_name_their_panel() -> None:
    private = parse_frame(frame(type="send", text="/cameo", panel="private"))
    assert private == Send(text="/cameo", panel="private")
    press = parse_frame(frame(type="press", payload="ap:4:sig", message_id="m-1", panel="private"))
    assert press == Press(payload="ap:4:sig", message_id="m-1", panel="private")
    assert parse_frame(frame(type="press", payload="dl:4:sig", message_id="m-1")) == Press(
        payload="dl:4:sig", message_id="m-1", panel="room"
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        (frame(type="dance"), "unknown_type"),
        (frame(text="no type"), "unknown_type"),
        (frame(type="hello", name="", user_id="u1234567890"), "bad_name"),
        (frame(type="hello", name="   ", user_id="u1234567890"), "bad_name"),
        (frame(type="hello", name="x" * 33, user_id="u1234567890"), "bad_name"),
        (frame(type="hello", name="two\nlines", user_id="u1234567890"), "bad_name"),
        (frame(type="hello", name=42, user_id="u1234567890"), "bad_name"),
        (frame(type="hello", name="Ada", user_id="../../etc"), "bad_user_id"),
        (frame(type="hello", name="Ada"), "bad_user_id"),
        (frame(type="send", text="   "), "empty"),
        (frame(type="send", text=None), "bad_text"),
        (frame(type="send", text="x" * (MAX_TEXT_CHARS + 1)), "too_long"),
        (frame(type="send", text="hi", reply_to=7), "bad_reply_to"),
        (frame(type="send", text="hi", reply_to="<script>"), "bad_reply_to"),
        (frame(type="send", text="hi", panel="someone-else"), "bad_panel"),
        (frame(type="press", payload="", message_id="m-1"), "bad_button"),
        (frame(type="press", payload="x" * 200, message_id="m-1"), "bad_button"),
        (frame(type="press", payload="ap:1:s", message_id="../x"), "bad_message"),
        (frame(type="press", payload="ap:1:s"), "bad_message"),
    ],
)
def test_bad_frames_are_named(raw: str, code: str) -> None:
    with pytest.raises(BadFrame) as caught:
        parse_frame(raw)
    assert caught.value.code == code
    assert str(caught.value)


def test_a_name_of_exactly_32_characters_is_fine() -> None:
    assert parse_frame(frame(type="hello", name="n" * 32, user_id="u1234567890")).name == "n" * 32


def test_the_longest_message_is_fine() -> None:
    parsed = parse_frame(frame(type="send", text="y" * MAX_TEXT_CHARS))
    assert isinstance(parsed, Send)
    assert len(parsed.text) == MAX_TEXT_CHARS

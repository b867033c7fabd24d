"""What a browser tab sends the local chat: any text is a checked frame or a BadFrame whose
message the page shows; nothing out of bounds gets through."""

from __future__ import annotations

import json
import re

from hypothesis import example, given
from hypothesis import strategies as st

from adapters.local.frames import (
    MAX_NAME_CHARS,
    MAX_PAYLOAD_CHARS,
    MAX_TEXT_CHARS,
    BadFrame,
    Hello,
    Incoming,
    Press,
    Send,
    parse_frame,
)
from tests.fuzz.profile import ANY_CHAR, FUZZ, TEXT

ID_CHARS = "abcXYZ019_-\n é"
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
frames = st.builds(
    lambda kind, fields: json.dumps({"type": kind, **fields}),
    st.sampled_from(["hello", "send", "press", "nope"]) | values,
    st.fixed_dictionaries(
        {},
        optional={
            "name": TEXT | values,
            "user_id": st.text(ID_CHARS, max_size=70) | values,
            "text": TEXT | st.just("x" * (MAX_TEXT_CHARS + 1)) | values,
            "reply_to": st.text(ID_CHARS, max_size=130) | values,
            "panel": st.sampled_from(["room", "private", "other"]) | values,
            "payload": TEXT | values,
            "message_id": st.text(ID_CHARS, max_size=130) | values,
        },
    ),
)


def parsed(raw: str) -> Incoming | BadFrame:
    try:
        return parse_frame(raw)
    except BadFrame as error:  # any other exception fails the test
        return error


@FUZZ
@example(raw="[" * 100_000)  # nested past the recursion limit
@example(raw='{"type": "hello", "name": "Ada", "user_id": "abcdefgh\\n"}')
@given(raw=frames | TEXT | st.text(ANY_CHAR, max_size=50).map(lambda t: '{"type": ' + t))
def test_any_frame_is_checked_or_refused_in_words(raw: str) -> None:
    frame = parsed(raw)
    if isinstance(frame, BadFrame):
        assert frame.code and str(frame).endswith((".", "'.")) and len(str(frame)) < 200
        return
    if isinstance(frame, Hello):
        assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", frame.user_id)
        assert 1 <= len(frame.name) <= MAX_NAME_CHARS and frame.name.isprintable()
    elif isinstance(frame, Send):
        assert frame.text and frame.text == frame.text.strip() and len(frame.text) <= MAX_TEXT_CHARS
        assert frame.reply_to is None or re.fullmatch(r"[A-Za-z0-9_-]{1,128}", frame.reply_to)
    else:
        assert isinstance(frame, Press)
        assert 1 <= len(frame.payload) <= MAX_PAYLOAD_CHARS
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", frame.message_id)
    assert frame.panel in ("room", "private") if not isinstance(frame, Hello) else True

"""Button payloads: whatever comes back from a platform is a verified Button or BadButton."""

from __future__ import annotations

from typing import get_args

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.callbacks import ACTIONS, BadButton, Button, sign, verify
from bot.callbacks import Action as ActionName
from tests.fuzz.profile import ANY_CHAR, FUZZ, TEXT

SECRET = b"fuzzed-secret-0123456789abcdef!!"
UNSCOPED = {"approve", "always", "deny", "cancel"}

actions = st.sampled_from(get_args(ActionName))
ids = st.integers(min_value=0, max_value=2**63 - 1)
chats = st.text(st.characters(codec="utf-8"), max_size=30)
buttons = st.builds(Button, action=actions, target_id=ids)
# What a forger would try: a known code and a plausible id before an arbitrary signature.
forged = st.builds(
    lambda code, number, signature: f"{code}:{number}:{signature}",
    st.sampled_from(sorted(ACTIONS)) | st.text(max_size=3),
    st.integers(min_value=0).map(str) | st.text(ANY_CHAR, max_size=8),
    st.text(ANY_CHAR, max_size=20) | st.binary(max_size=16).map(lambda b: b.hex()),
)


def refused(payload: str, chat_id: str, secret: bytes = SECRET) -> bool:
    try:
        verify(payload, chat_id=chat_id, secret=secret)
    except BadButton as error:
        assert str(error).startswith("That button isn't valid")
        return True
    return False


@FUZZ
@given(button=buttons, chat_id=chats)
def test_signed_buttons_round_trip_within_the_platform_limits(button: Button, chat_id: str) -> None:
    payload = sign(button, chat_id=chat_id, secret=SECRET)
    assert verify(payload, chat_id=chat_id, secret=SECRET) == button
    # Telegram's callback data is 64 bytes, Discord's custom id 100 characters (less a prefix).
    assert len(payload.encode()) <= 64 and payload.isascii()


@FUZZ
@given(payload=TEXT | forged, chat_id=chats)
def test_anything_else_is_refused_cleanly(payload: str, chat_id: str) -> None:
    assert refused(payload, chat_id)


@FUZZ
@given(raw=st.binary(max_size=80), chat_id=chats)
def test_random_bytes_are_refused(raw: bytes, chat_id: str) -> None:
    # Whatever a platform decodes them to: latin-1, or UTF-8 with replacement characters.
    assert refused(raw.decode("latin-1"), chat_id)
    assert refused(raw.decode("utf-8", "replace"), chat_id)


@FUZZ
@given(button=buttons, chat_id=chats, cut=st.integers(min_value=1))
def test_truncated_payloads_are_refused(button: Button, chat_id: str, cut: int) -> None:
    payload = sign(button, chat_id=chat_id, secret=SECRET)
    assert refused(payload[: cut % len(payload)], chat_id)


@FUZZ
@given(button=buttons, chat_id=chats, where=st.integers(min_value=0), new=ANY_CHAR)
def test_any_altered_character_is_refused(
    button: Button, chat_id: str, where: int, new: str
) -> None:
    payload = sign(button, chat_id=chat_id, secret=SECRET)
    where %= len(payload)
    assume(payload[where] != new)
    assert refused(payload[:where] + new + payload[where + 1 :], chat_id)


@FUZZ
@given(button=buttons, chat_id=chats, other=chats, secret=st.binary(min_size=1, max_size=40))
def test_payloads_moved_to_another_chat_or_server_are_refused(
    button: Button, chat_id: str, other: str, secret: bytes
) -> None:
    payload = sign(button, chat_id=chat_id, secret=SECRET)
    if secret != SECRET:
        assert refused(payload, chat_id, secret)
    if other != chat_id:
        # Consent and admin buttons go to a DM and are checked against the presser instead.
        assert refused(payload, other) == (button.action not in UNSCOPED)

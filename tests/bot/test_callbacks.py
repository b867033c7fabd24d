from __future__ import annotations

import pytest

from bot.callbacks import BadButton, Button, cancel_button, job_id_of, sign, verify

SECRET = b"s" * 32


def test_round_trip_and_size() -> None:
    payload = sign(Button("delete", 123456789), chat_id="-100123", secret=SECRET)
    assert len(payload.encode()) <= 64
    assert verify(payload, chat_id="-100123", secret=SECRET) == Button("delete", 123456789)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.replace("dl:", "rr:"),  # another action
        lambda p: p.replace(":42:", ":43:"),  # another clip
        lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),  # another signature
        lambda p: "dl:42",  # no signature
        lambda p: "",  # nothing
        lambda p: "xx:42:" + p.rsplit(":", 1)[1],  # unknown action
    ],
)
def test_altered_payloads_are_refused(tamper: object) -> None:
    payload = sign(Button("delete", 42), chat_id="c", secret=SECRET)
    with pytest.raises(BadButton):
        verify(tamper(payload), chat_id="c", secret=SECRET)  # type: ignore[operator]


def test_a_payload_from_another_chat_or_server_is_refused() -> None:
    payload = sign(Button("remix", 7), chat_id="chat-a", secret=SECRET)
    with pytest.raises(BadButton):
        verify(payload, chat_id="chat-b", secret=SECRET)
    with pytest.raises(BadButton):
        verify(payload, chat_id="chat-a", secret=b"another server")


def test_a_cancel_button_carries_the_whole_job_id() -> None:
    job_id = "00ab" + "f" * 28
    button = cancel_button(job_id)
    assert button is not None and job_id_of(button) == job_id

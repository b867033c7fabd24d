"""The local chat's status message: the Cancel button and the preview frame travel to the page."""

from __future__ import annotations

import base64

from adapters.local.port import notice_data
from bot.callbacks import verify
from bot.replies import Progress, Queued

JOB = "0123456789abcdef0123456789abcdef"


def test_a_waiting_clip_has_its_cancel_button_signed_for_the_room() -> None:
    data = notice_data(Queued(JOB, 2, "a frog DJ", eta_s=90), chat_id="room", secret=b"s")
    assert data["kind"] == "queued" and data["eta_s"] == 90
    [choice] = data["choices"]
    button = verify(choice["payload"], chat_id="room", secret=b"s")
    assert choice["label"] == "✖️ Cancel" and f"{button.target_id:032x}" == JOB


def test_the_preview_frame_goes_inline_as_a_data_url() -> None:
    jpeg = b"\xff\xd8 a tiny jpeg"
    progress = Progress(JOB, 40, "rendering", eta_s=12, preview=jpeg)
    data = notice_data(progress, chat_id="room", secret=b"s")
    prefix = "data:image/jpeg;base64,"
    assert data["preview"].startswith(prefix)
    assert base64.b64decode(data["preview"].removeprefix(prefix)) == jpeg
    assert "left" in progress.text and [c["label"] for c in data["choices"]] == ["✖️ Cancel"]

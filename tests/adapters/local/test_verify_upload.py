"""The Verify button of the private panel: the same upload as a selfie, sent with /verify."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.local.people import private_chat
from adapters.local.uploads import PURPOSE_HEADER, USER_HEADER
from bot.commands import SelfieUpload, VerifyUpload
from bot.types import MessageRef
from tests.adapters.local.fakes import RecordingCore, tiny_mp4
from tests.adapters.local.panel import ALICE, panel_client
from tests.adapters.local.tabs import enter, private_frame

client = pytest.fixture(panel_client, name="client")


async def test_verify_sends_the_video_with_verify_not_as_a_selfie(
    client: TestClient[Any, Any], core: RecordingCore
) -> None:
    alice, _ = await enter(client, ALICE)
    video = tiny_mp4()
    headers = {USER_HEADER: ALICE.user_id, "Content-Type": "video/mp4", PURPOSE_HEADER: "verify"}
    response = await client.post("/selfie", data=video, headers=headers)
    assert response.status == 200
    (upload,) = core.commands
    assert isinstance(upload, VerifyUpload) and not isinstance(upload, SelfieUpload)
    assert (upload.author, upload.chat, upload.size_bytes) == (
        ALICE,
        private_chat(ALICE),
        len(video),
    )
    shown = (await private_frame(alice))["message"]
    assert shown["text"].endswith("with /verify")
    assert upload.message == MessageRef(private_chat(ALICE), shown["id"])

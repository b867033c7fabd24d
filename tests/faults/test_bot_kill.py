"""The bot SIGKILLed while a clip is being uploaded: the upload went through, the bot never
heard. The next bot does not post it again (Telegram cannot be searched, so it says the clip
may be up already and offers /repost), and the clips asked for afterwards arrive once."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.adapters.telegram.steps import wait_until
from tests.faults.conftest import Build, report

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_bot_killed_mid_upload_posts_nothing_twice(deployment_on: Build) -> None:
    deployment = await deployment_on()
    await deployment.start(workers=1)
    api = deployment.api
    api.slow = {"sendVideo": 4.0}  # the upload is in; Telegram's answer is not out yet

    [first] = await deployment.ask(1)
    await deployment.called("arrived:sendVideo")
    deployment.shape.kill("bot")
    killed_at = time.monotonic()
    await deployment.videos(1)  # Telegram finished the upload: the clip is up
    api.slow = {}

    await deployment.shape.start("bot-2", "bot", bare=True)
    note = await wait_until(api, "editMessageText", "/repost")
    recover_s = time.monotonic() - killed_at
    later = await deployment.ask(2, start=1)
    counts = await deployment.delivered([first, *later])
    report("bot SIGKILLed mid-upload (3 clips)", counts, recover_s)
    assert counts == {c["message_id"]: 1 for c in [first, *later]}
    assert "may be above already" in note.params["text"]
    await asyncio.sleep(0)

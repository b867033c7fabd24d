"""The chat platform misbehaving: a fifth of its calls answered 429 (with retry_after) or 502,
then an upload limit below the clip's size. Every clip arrives exactly once: the rate limiter
waits out 429s, posts that still fail are retried per job, and a clip refused for its size is
re-encoded smaller by a light worker."""

from __future__ import annotations

import pytest

from tests.faults.conftest import Build, report

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_flaky_platform_then_a_small_upload_limit(deployment_on: Build) -> None:
    deployment = await deployment_on()
    await deployment.start()
    api = deployment.api

    # 1. 20% of sends, status edits and clip uploads fail, half 429, half 502.
    api.flaky = {"sendMessage": 0.2, "editMessageText": 0.2, "sendVideo": 0.2}
    commands = await deployment.ask(10)
    counts = await deployment.delivered(commands)
    failed = [c for c in api.calls if c.status in (429, 502)]
    report(f"20% of platform calls 429/502 ({len(failed)} failed calls, 10 clips)", counts, None)
    assert failed  # the faults did happen
    assert counts == {c["message_id"]: 1 for c in commands}

    # 2. The platform takes only uploads under 60% of what the clips weigh.
    api.flaky = {}
    sizes = [len(next(iter(c.files.values()))) for c in api.of("sendVideo")]
    api.upload_limit = min(sizes) * 6 // 10
    seen = len(api.of("sendVideo"))
    commands = await deployment.ask(3, start=10)
    counts = await deployment.delivered(commands)
    report(f"upload limit {api.upload_limit:,} B, 60% of the clip (3 clips)", counts, None)
    assert counts == {c["message_id"]: 1 for c in commands}
    for call in api.of("sendVideo")[seen:]:
        assert len(next(iter(call.files.values()))) <= api.upload_limit
    assert any(c.status == 413 for c in api.calls)

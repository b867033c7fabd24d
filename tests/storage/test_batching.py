from __future__ import annotations

import asyncio

import pytest

from storage.batching import Batcher


async def test_concurrent_calls_share_batches_and_keep_their_own_results() -> None:
    sizes: list[int] = []

    async def run(items: list[int]) -> list[int | Exception]:
        sizes.append(len(items))
        await asyncio.sleep(0.01)
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(run, max_batch=50)
    results = await asyncio.gather(*(batcher(i) for i in range(120)), return_exceptions=True)
    assert sizes == [50, 50, 20]
    assert results[4] == 40
    assert isinstance(results[3], ValueError) and str(results[3]) == "odd 3"


async def test_a_failing_batch_fails_its_callers_and_the_next_batch_still_runs() -> None:
    calls = 0

    async def run(items: list[str]) -> list[str | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return items

    batcher: Batcher[str, str] = Batcher(run)
    with pytest.raises(ConnectionError):
        await batcher("first")
    assert await batcher("second") == "second"


async def test_a_caller_that_gives_up_does_not_break_the_batch() -> None:
    release = asyncio.Event()

    async def run(items: list[int]) -> list[int | Exception]:
        await release.wait()
        return items

    batcher: Batcher[int, int] = Batcher(run)
    impatient = asyncio.create_task(batcher(1))
    patient = asyncio.create_task(batcher(2))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()
    assert await patient == 2
    with pytest.raises(asyncio.CancelledError):
        await impatient

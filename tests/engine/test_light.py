"""Light tasks: run in this process and through a real arq light worker on Redis, with their
answers and their failures as a person would read them."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from engine.backends import load_backend
from engine.cameos import FaceModels
from engine.encode import probe_mp4
from engine.light import ArqLight, InProcessLight, LightContext
from engine.pipeline import generate
from engine.queue import FIT_CLIP, VERIFY_SELFIE, LightTaskFailed, LightTaskTimeout
from storage.blobs import BlobStore
from storage.db import Database
from tests.conftest import REDIS_URL, delete_keys
from tests.engine.factories import small_request


@pytest.fixture(scope="module")
def clip() -> bytes:
    return generate(small_request(duration_s=2.0), load_backend("sketch")).data


@pytest.fixture
def light(sqlite_db: Database, blobs: BlobStore) -> InProcessLight:
    return InProcessLight(LightContext(sqlite_db, blobs, FaceModels(), owns_db=False))


async def test_fit_makes_a_smaller_copy_beside_the_original(
    light: InProcessLight, blobs: BlobStore, clip: bytes
) -> None:
    key = await blobs.put(clip, "mp4")
    limit = len(clip) * 6 // 10
    answer = await light.call(FIT_CLIP, {"blob_key": key, "max_bytes": limit}, timeout_s=60)
    fitted = await blobs.read(answer["blob_key"])
    assert answer["size_bytes"] == len(fitted) <= limit
    assert await blobs.read(key) == clip  # the original stays as it was
    assert probe_mp4(fitted).duration_s == pytest.approx(2.0, abs=0.1)


async def test_a_clip_that_cannot_fit_is_a_plain_refusal(
    light: InProcessLight, blobs: BlobStore, clip: bytes
) -> None:
    key = await blobs.put(clip, "mp4")
    with pytest.raises(LightTaskFailed, match="does not fit"):
        await light.call(FIT_CLIP, {"blob_key": key, "max_bytes": 2_000}, timeout_s=60)


async def test_an_unreadable_selfie_is_refused_in_words(
    light: InProcessLight, blobs: BlobStore, analyzer: object
) -> None:
    light.context.faces.use(analyzer)  # type: ignore[arg-type]
    key = await blobs.put(b"this is not a video", "mp4")
    payload = {"user_id": 1, "video_key": key, "max_bytes": 20_000_000, "max_seconds": 15}
    answer = await light.call(VERIFY_SELFIE, payload, timeout_s=60)
    assert answer == {"refused": answer["refused"]}
    assert "could not read that video" in answer["refused"]


async def test_an_unknown_task_or_a_crash_is_a_generic_sentence(light: InProcessLight) -> None:
    with pytest.raises(LightTaskFailed, match="went wrong on my side"):
        await light.call("no_such_task", {}, timeout_s=5)
    with pytest.raises(LightTaskFailed, match="went wrong on my side"):
        await light.call(FIT_CLIP, {"blob_key": "not-a-key"}, timeout_s=5)


async def test_no_answer_in_time_is_a_timeout(light: InProcessLight, blobs: BlobStore) -> None:
    key = await blobs.put(b"x", "mp4")
    # A clip this small cannot take long to refuse, but no time at all is too little.
    with pytest.raises(LightTaskTimeout, match="try again"):
        await light.call(FIT_CLIP, {"blob_key": key, "max_bytes": 1}, timeout_s=0)


@pytest.mark.redis
async def test_a_light_worker_answers_over_redis(
    arq_light: ArqLight, tmp_path, clip: bytes
) -> None:
    blobs = BlobStore(tmp_path / "blobs")  # the folder small_settings gives the worker
    key = await blobs.put(clip, "mp4")
    limit = len(clip) * 6 // 10
    answer = await arq_light.call(FIT_CLIP, {"blob_key": key, "max_bytes": limit}, timeout_s=60)
    assert answer["size_bytes"] <= limit
    assert len(await blobs.read(answer["blob_key"])) == answer["size_bytes"]
    with pytest.raises(LightTaskFailed, match="does not fit"):
        await arq_light.call(FIT_CLIP, {"blob_key": key, "max_bytes": 2_000}, timeout_s=60)


@pytest.mark.redis
async def test_without_a_light_worker_the_call_times_out(tmp_path, redis_prefix: str) -> None:
    light = ArqLight.from_url(REDIS_URL, prefix=redis_prefix)
    try:
        with pytest.raises(LightTaskTimeout, match="try again in a minute"):
            await light.call(FIT_CLIP, {"blob_key": "k", "max_bytes": 1}, timeout_s=0.5)
    finally:
        await light.close()
        client = Redis.from_url(REDIS_URL)
        await delete_keys(client, redis_prefix)
        await client.aclose()

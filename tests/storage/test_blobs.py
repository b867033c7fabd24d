"""One behaviour table for both blob stores: the local folder and a bucket on a real S3 server."""

from __future__ import annotations

import asyncio
import hashlib
import os
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from storage.blob_stores import open_blobs
from storage.blobs import BlobConfig, Blobs, BlobStore
from storage.errors import BadBlobConfig, BadBlobKey, BlobUnavailable, NotFound
from tests.s3_server import make_bucket

MISSING = "0" * 64 + ".mp4"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Blobs:
    if request.param == "local":
        return open_blobs(BlobConfig(folder=tmp_path / "blobs"))
    config: BlobConfig = request.getfixturevalue("s3_config")
    return open_blobs(config)


async def test_put_is_content_addressed_and_idempotent(store: Blobs) -> None:
    key = await store.put(b"video bytes", "mp4")
    assert key == hashlib.sha256(b"video bytes").hexdigest() + ".mp4"
    assert await store.put(b"video bytes", "mp4") == key
    assert await store.read(key) == b"video bytes"
    assert await store.exists(key)
    assert await store.put(b"video bytes", "jpg") != key  # the suffix is part of the key


async def test_missing_blob_is_not_found_and_does_not_exist(store: Blobs) -> None:
    with pytest.raises(NotFound, match="is not stored"):
        await store.read(MISSING)
    assert not await store.exists(MISSING)


async def test_delete_removes_the_blob_and_deleting_twice_is_fine(store: Blobs) -> None:
    key = await store.put(b"gone soon", "jpg")
    other = await store.put(b"stays", "jpg")
    await store.delete(key)
    assert not await store.exists(key)
    await store.delete(key)
    await store.delete(MISSING)
    assert await store.read(other) == b"stays"


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "a" * 64 + ".mp4/../../x",
        "A" * 64 + ".mp4",
        "a" * 63 + ".mp4",
        "a" * 64 + ".exe",
        "a" * 64,
        "",
        "a" * 64 + ".mp4\x00",
        "a" * 64 + ".mp4\n",
        "clips/" + "a" * 64 + ".mp4",
    ],
)
async def test_keys_that_could_escape_or_were_not_made_here_are_refused(
    store: Blobs, key: str
) -> None:
    for call in (store.read, store.exists, store.delete):
        with pytest.raises(BadBlobKey):
            await call(key)
    with pytest.raises(BadBlobKey):
        store.local_path(key)


async def test_unknown_suffix_is_refused_and_nothing_is_stored(store: Blobs) -> None:
    with pytest.raises(BadBlobKey, match="'sh' is not one of"):
        await store.put(b"x", "sh")
    assert not await store.exists(hashlib.sha256(b"x").hexdigest() + ".mp4")


async def test_concurrent_puts_of_the_same_and_different_bytes(store: Blobs) -> None:
    payloads = [os.urandom(64 * 1024) for _ in range(6)]
    # Every payload four times over, all at once.
    keys = await asyncio.gather(*(store.put(p, "mp4") for p in payloads * 4))
    assert keys == [content_key_of(p) for p in payloads * 4]
    for payload in payloads:
        assert await store.read(content_key_of(payload)) == payload


async def test_a_reader_never_sees_half_a_blob(store: Blobs) -> None:
    data = os.urandom(8 * 1024 * 1024)
    key = content_key_of(data)
    writing = asyncio.create_task(store.put(data, "mp4"))
    seen: list[int] = []
    while not writing.done():
        try:
            seen.append(len(await store.read(key)))
        except NotFound:
            seen.append(0)
    await writing
    assert set(seen) <= {0, len(data)}
    assert await store.read(key) == data


async def test_local_path_is_the_file_for_a_folder_and_none_for_a_bucket(store: Blobs) -> None:
    key = await store.put(b"sendfile me", "mp4")
    path = store.local_path(key)
    if isinstance(store, BlobStore):
        assert path is not None and path.is_relative_to(store.root)
        assert path.read_bytes() == b"sendfile me"
        assert not list(store.root.rglob(".incoming-*"))  # no temporary file left behind
    else:
        assert path is None


def content_key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest() + ".mp4"


# S3 only ---------------------------------------------------------------------------------------


async def test_two_stores_on_one_bucket_share_blobs_and_prefixes_keep_apart(
    s3_config: BlobConfig,
) -> None:
    worker, bot = open_blobs(s3_config), open_blobs(s3_config)
    key = await worker.put(b"a clip from another machine", "mp4")
    assert await bot.read(key) == b"a clip from another machine"
    elsewhere = open_blobs(replace(s3_config, url=f"{s3_config.url}-other"))
    assert not await elsewhere.exists(key)
    await bot.delete(key)
    assert not await worker.exists(key)


async def test_the_bucket_has_the_folder_layout_so_a_folder_syncs_as_it_is(
    tmp_path: Path, s3_endpoint: str, s3_config: BlobConfig
) -> None:
    folder = BlobStore(tmp_path / "blobs")
    key = await folder.put(b"made on one machine", "mp4")
    path = folder.local_path(key)
    bucket = s3_config.url.removeprefix("s3://") if s3_config.url else ""
    # What `aws s3 sync <folder> s3://bucket/prefix` does: each file under its relative path.
    upload = urllib.request.Request(
        f"{s3_endpoint}/{bucket}/{path.relative_to(folder.root)}",
        data=path.read_bytes(),
        method="PUT",
        # urllib's default form type would have the server parse the body as a form.
        headers={"Content-Type": "application/octet-stream"},
    )
    await asyncio.to_thread(lambda: urllib.request.urlopen(upload, timeout=10).close())
    assert await open_blobs(s3_config).read(key) == b"made on one machine"


async def test_an_unreachable_server_is_a_clear_error_without_secrets(tmp_path: Path) -> None:
    config = BlobConfig(
        url="s3://clips/prod",
        endpoint="http://127.0.0.1:9",  # the discard port: nothing listens there
        access_key="AKIAEXAMPLE",
        secret_key="very-secret-value",
    )
    with pytest.raises(BlobUnavailable) as caught:
        await open_blobs(config).read(MISSING)
    message = str(caught.value)
    assert "could not read blob" in message and "s3://clips/prod" in message
    assert "very-secret-value" not in message
    assert "very-secret-value" not in repr(config) and "AKIAEXAMPLE" not in repr(config)


async def test_a_missing_bucket_is_a_clear_error(s3_endpoint: str, s3_config: BlobConfig) -> None:
    config = replace(s3_config, url="s3://no-such-bucket-here/clips")
    gone = r"store blob .* in s3://no-such-bucket-here/clips: the bucket does not exist"
    with pytest.raises(BlobUnavailable, match=gone):
        await open_blobs(config).put(b"lost", "mp4")
    make_bucket(s3_endpoint, "no-such-bucket-here")
    assert await open_blobs(config).put(b"found", "mp4")


@pytest.mark.parametrize("url", ["clips", "s3://", "s3:///prefix", "https://bucket/x", "s3:bucket"])
def test_a_url_that_names_no_bucket_is_refused(url: str) -> None:
    with pytest.raises(BadBlobConfig, match="s3://bucket/prefix"):
        open_blobs(BlobConfig(url=url))

from __future__ import annotations

import hashlib

import pytest

from storage.blobs import BlobStore
from storage.errors import BadBlobKey, NotFound


def test_put_is_content_addressed_and_idempotent(blobs: BlobStore) -> None:
    key = blobs.put(b"video bytes", "mp4")
    assert key == hashlib.sha256(b"video bytes").hexdigest() + ".mp4"
    assert blobs.put(b"video bytes", "mp4") == key
    assert blobs.read(key) == b"video bytes"
    assert blobs.path(key).is_relative_to(blobs.root)
    assert not [p for p in blobs.root.rglob(".incoming-*")]


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
    ],
)
def test_keys_that_could_escape_or_were_not_made_here_are_refused(
    blobs: BlobStore, key: str
) -> None:
    with pytest.raises(BadBlobKey):
        blobs.path(key)


def test_unknown_suffix_refused_and_missing_blob_not_found(blobs: BlobStore) -> None:
    with pytest.raises(BadBlobKey):
        blobs.put(b"x", "sh")
    with pytest.raises(NotFound):
        blobs.read("0" * 64 + ".mp4")


def test_delete_removes_the_file(blobs: BlobStore) -> None:
    key = blobs.put(b"gone soon", "jpg")
    blobs.delete(key)
    assert not blobs.exists(key)
    blobs.delete(key)  # deleting twice is fine

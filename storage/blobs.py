"""Clip files under content-addressed keys: a local folder, or an S3-compatible bucket.

A key is the SHA-256 of the content plus a known suffix. Keys are checked against that shape
before any path or object name is built, so no key can name a file outside the folder (or an
object outside the prefix). Both stores answer the same async `Blobs` protocol; everything else
annotates that and never asks which one it has, except `local_path`, which lets the local web
chat hand a file to the kernel (sendfile) instead of reading it. The local folder's store is
here, the bucket's in `storage.s3_blobs`, and `storage.blob_stores.open_blobs` picks one.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from storage.errors import BadBlobConfig, BadBlobKey, NotFound

SUFFIXES = frozenset({"mp4", "jpg", "png", "webp"})
_KEY = re.compile(r"([0-9a-f]{64})\.([a-z0-9]{2,4})")


def check_key(key: str) -> str:
    """`key` itself when it is one a store could have made; BadBlobKey otherwise."""
    # fullmatch, not match with `$`: `$` also matches before a trailing newline.
    match = _KEY.fullmatch(key)
    if match is None or match.group(2) not in SUFFIXES:
        raise BadBlobKey(f"{key!r} is not a blob key")
    return key


def content_key(data: bytes, suffix: str) -> str:
    """The key `data` is stored under: the same bytes always give the same key."""
    if suffix not in SUFFIXES:
        raise BadBlobKey(f"blob suffix {suffix!r} is not one of {sorted(SUFFIXES)}")
    return f"{hashlib.sha256(data).hexdigest()}.{suffix}"


class Blobs(Protocol):
    """Where clips, selfie crops and uploads live; one shape for every backend."""

    async def put(self, data: bytes, suffix: str) -> str:
        """Store `data` and return its key. Idempotent, and atomic: no reader sees half of it."""
        ...

    async def read(self, key: str) -> bytes:
        """The stored bytes; NotFound when nothing is stored under `key`."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the blob; deleting one that is not there is fine."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file holding `key` when blobs live in a local folder, else None."""
        ...


@dataclass(frozen=True)
class BlobStore:
    """Blobs in a local folder: the default, for one machine."""

    root: Path

    async def put(self, data: bytes, suffix: str) -> str:
        key = content_key(data, suffix)
        await asyncio.to_thread(self._write, self._path(key), data)
        return key

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self._read, self._path(key))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def _path(self, key: str) -> Path:
        # Two-level fan-out keeps folders small.
        return self.root / key[:2] / check_key(key)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return  # content-addressed: the same key holds the same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"blob {path.name} is not stored") from None


@dataclass(frozen=True)
class BlobConfig:
    """Where blobs live: the local `folder`, or an S3-compatible bucket when `url` is set.

    `url` is `s3://bucket` or `s3://bucket/prefix`. `endpoint` points at a server other than
    AWS (MinIO, Ceph, R2, ...: `https://host:port`); `region` defaults to us-east-1. Credentials
    left None are taken from the environment the way AWS tools do (AWS_ACCESS_KEY_ID, ...,
    an instance role). They are kept out of repr, so a logged config shows no secret.
    """

    folder: Path = Path("data/blobs")
    url: str | None = None
    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`; BadBlobConfig names what is wrong."""
    scheme, sep, rest = url.partition("://")
    bucket, _, prefix = rest.partition("/")
    if scheme != "s3" or not sep or not bucket:
        raise BadBlobConfig(
            f"blob storage URL {url!r} is not of the form s3://bucket or s3://bucket/prefix"
        )
    return bucket, prefix.strip("/")

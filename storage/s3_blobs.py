"""Blobs in an S3-compatible bucket, so a bot and workers on other machines share clips.

The client is obstore (Rust's object_store under a small async Python API): one native module
that imports in milliseconds and needs only typing-extensions, so the light bot process stays
light. This module is imported only when `CLIPCREW_BLOB_URL` names a bucket.

An S3 PUT is atomic (an object appears whole or not at all), and keys are content-addressed,
so storing the same bytes twice, even from two machines at once, leaves one whole object.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import obstore
from obstore.exceptions import BaseError
from obstore.store import S3Store

from storage.blobs import BlobConfig, check_key, content_key, parse_s3_url
from storage.errors import BlobUnavailable, NotFound

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

T = TypeVar("T")

# A clip of tens of MB on a slow uplink takes a while; a dead endpoint should not.
_CLIENT: ClientConfig = {"connect_timeout": timedelta(seconds=5), "timeout": timedelta(minutes=2)}
_RETRY: RetryConfig = {"max_retries": 4, "retry_timeout": timedelta(seconds=30)}


@dataclass(frozen=True)
class S3Blobs:
    store: S3Store
    # s3://bucket/prefix, for messages: it names the place and holds no credential.
    url: str

    @classmethod
    def open(cls, config: BlobConfig) -> S3Blobs:
        if config.url is None:
            raise ValueError("S3Blobs.open needs a config with an s3:// URL")
        bucket, prefix = parse_s3_url(config.url)
        s3: S3Config = {}
        # Only what is set: the rest comes from the environment (AWS_*, an instance role).
        if config.endpoint:
            s3["endpoint"] = config.endpoint
        if config.region:
            s3["region"] = config.region
        if config.access_key:
            s3["access_key_id"] = config.access_key
        if config.secret_key:
            s3["secret_access_key"] = config.secret_key
        client: ClientConfig = {**_CLIENT}
        if config.endpoint and config.endpoint.startswith("http://"):
            client["allow_http"] = True  # a server on loopback or a private network
        store = S3Store(
            bucket,
            prefix=prefix or None,
            config=s3,
            client_options=client,
            retry_config=_RETRY,
        )
        return cls(store=store, url=config.url)

    async def put(self, data: bytes, suffix: str) -> str:
        key = content_key(data, suffix)
        # Content-addressed: an object under this key already holds these bytes. Asking first
        # saves uploading a clip twice; conditional PUTs are not on every S3-compatible server.
        if not await self.exists(key):
            await self._call("store", key, obstore.put_async(self.store, _name(key), data))
        return key

    async def read(self, key: str) -> bytes:
        result = await self._call("read", key, obstore.get_async(self.store, _name(key)))
        return bytes(await self._call("read", key, result.bytes_async()))

    async def exists(self, key: str) -> bool:
        try:
            await self._call("look up", key, obstore.head_async(self.store, _name(key)))
        except NotFound:
            return False
        return True

    async def delete(self, key: str) -> None:
        # S3 answers a DELETE of a missing object with success, as the protocol asks.
        await self._call("delete", key, obstore.delete_async(self.store, _name(key)))

    def local_path(self, key: str) -> Path | None:
        check_key(key)
        return None

    async def _call(self, doing: str, key: str, call: Awaitable[T]) -> T:
        """Await `call`, turning the client's errors into storage's, with a readable sentence."""
        try:
            return await call
        except FileNotFoundError as exc:
            # S3 answers 404 for a missing bucket as for a missing object; only the body differs.
            if doing != "store" and "NoSuchBucket" not in str(exc):
                raise NotFound(f"blob {key} is not stored in {self.url}") from None
            raise BlobUnavailable(
                f"could not {doing} blob {key} in {self.url}: the bucket does not exist"
            ) from exc
        except (BaseError, OSError, ValueError) as exc:
            # The client's first line says what failed; the rest is the server's raw answer.
            reason = str(exc).strip().split("\n", 1)[0][:300]
            raise BlobUnavailable(f"could not {doing} blob {key} in {self.url}: {reason}") from exc


def _name(key: str) -> str:
    # The local folder's layout (two-level fan-out), so a folder syncs to a bucket as it is.
    return f"{key[:2]}/{check_key(key)}"

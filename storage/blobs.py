"""Clip files in a local folder under content-addressed keys.

A key is the SHA-256 of the content plus a known suffix. Keys are checked against that shape
before any path is built, so no key can name a file outside the folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from storage.errors import BadBlobKey, NotFound

SUFFIXES = frozenset({"mp4", "jpg", "png", "webp"})
_KEY = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{2,4})$")


@dataclass(frozen=True)
class BlobStore:
    root: Path

    def put(self, data: bytes, suffix: str) -> str:
        """Store `data`; the same bytes always give the same key, and storing twice is free."""
        if suffix not in SUFFIXES:
            raise BadBlobKey(f"blob suffix {suffix!r} is not one of {sorted(SUFFIXES)}")
        key = f"{hashlib.sha256(data).hexdigest()}.{suffix}"
        path = self.path(key)
        if path.exists():
            return key
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
        return key

    def path(self, key: str) -> Path:
        match = _KEY.match(key)
        if match is None or match.group(2) not in SUFFIXES:
            raise BadBlobKey(f"{key!r} is not a blob key")
        # Two-level fan-out keeps folders small.
        return self.root / key[:2] / key

    def read(self, key: str) -> bytes:
        path = self.path(key)
        if not path.is_file():
            raise NotFound(f"blob {key} is not stored")
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


@dataclass(frozen=True)
class BlobConfig:
    """Where clip files live: a local folder, or an S3-compatible bucket when `url` is set."""

    folder: Path = Path("data/blobs")
    url: str | None = None

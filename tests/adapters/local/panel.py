"""The test server as the private-panel tests run it: buttons signed with a known secret, a small
selfie cap to read past, and Alice, whose panel they open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.local.server import create_app
from bot.types import ChatUser
from storage.blobs import BlobStore
from tests.adapters.local.fakes import RecordingCore

SECRET = b"private-panel-test"
CAP = 10_000
ALICE = ChatUser("local", "u-alice-0001", "Alice", "alice")


async def panel_client(
    core: RecordingCore, blobs: BlobStore
) -> AsyncIterator[TestClient[Any, Any]]:
    """The panel test modules' `client` (each declares
    `client = pytest.fixture(panel_client, name="client")`), since the room's tests run theirs
    without a secret or a cap of their own."""
    app = create_app(core, blobs, command="sora", secret=SECRET, max_selfie_bytes=CAP)
    async with TestClient(TestServer(app)) as client:
        yield client

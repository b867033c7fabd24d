"""A real S3-compatible server on loopback for the tests: moto's, in a process of its own.

Loaded as a pytest plugin from tests/conftest.py. The server starts once per run, the first time
a test asks for it; each test gets a fresh bucket of its own, so tests never see each other's
objects.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from storage.blobs import BlobConfig

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
            return True
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a moto S3 server started for this test run."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # A file, not a pipe: the server logs every request, and a pipe nobody reads fills up.
    log = tmp_path_factory.mktemp("s3-server") / "moto.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(endpoint):
            if server.poll() is not None:
                raise RuntimeError(f"moto server exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not answer on {endpoint} within 30 s")
            time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def make_bucket(endpoint: str, name: str) -> None:
    # moto takes an unsigned CreateBucket; the store under test signs every request it makes.
    request = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture
def s3_config(s3_endpoint: str) -> BlobConfig:
    """Settings for a fresh, empty bucket on the loopback server, under a prefix."""
    bucket = f"clipcrew-test-{uuid.uuid4().hex[:12]}"
    make_bucket(s3_endpoint, bucket)
    return BlobConfig(
        url=f"s3://{bucket}/clips",
        endpoint=s3_endpoint,
        region="us-east-1",
        access_key="test-access-key",
        secret_key="test-secret-key",
    )

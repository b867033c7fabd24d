"""The emulator's faults, for the fault suite and the retry tests: a call failed on request the
way Telegram fails it, a share of calls per method answered 429 (retry_after 1) or 502 at random
(seeded), an upload limit for sendVideo, and calls held a while before they are answered (the
request is in, the answer is not out yet)."""

from __future__ import annotations

import random

from tests.adapters.telegram.emulator_wire import Json, failure


class Faults:
    """Mixed into the emulator's BotApi (which calls `Faults.__init__`)."""

    def __init__(self) -> None:
        self._failures: dict[str, list[tuple[int, Json]]] = {}
        self.flaky: dict[str, float] = {}
        self.upload_limit: int | None = None
        self.slow: dict[str, float] = {}
        self._chance = random.Random(7)

    def _fault(self, method: str, files: dict[str, bytes]) -> tuple[int, Json] | None:
        if method == "sendVideo" and self.upload_limit is not None:
            size = sum(len(data) for data in files.values())
            if size > self.upload_limit:
                return 413, failure(413, "Request Entity Too Large")
        if self._chance.random() >= self.flaky.get(method, 0.0):
            return None
        if self._chance.random() < 0.5:
            return 429, failure(429, "Too Many Requests: retry after 1", retry_after=1)
        return 502, failure(502, "Bad Gateway")

    def fail_next(self, method: str, status: int, *, retry_after: int | None = None) -> None:
        """The next call of `method` fails the way Telegram fails it."""
        said = {413: "Request Entity Too Large", 429: "Too Many Requests"}
        description = said.get(status, f"HTTP {status}")
        if retry_after is not None:
            description += f": retry after {retry_after}"
        body = failure(status, description, retry_after=retry_after)
        self._failures.setdefault(method, []).append((status, body))

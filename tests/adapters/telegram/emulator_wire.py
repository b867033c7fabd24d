"""The emulator's wire: how Bot API calls arrive (form fields or multipart), how Telegram answers
them (`{"ok": ...}`), what it marks up in a message's text by itself, and the records the
emulator keeps of calls and files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Json = dict[str, Any]

MENTION = re.compile(r"(?<![\w@])@\w+")


class ApiError(Exception):
    """A Bot API method's failure, answered as Telegram does: `{"ok": false, ...}`."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    # What Telegram states; may exceed len(data) so a test needn't hold 25 MB to send 25 MB.
    file_size: int


@dataclass
class Call:
    method: str
    params: Json
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    # The method's result; for a failure that Telegram describes, its description.
    result: Any = None


def failure(status: int, description: str, *, retry_after: int | None = None) -> Json:
    body: Json = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def error_response(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


def snake(method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


async def read_params(request: web.Request) -> tuple[Json, dict[str, bytes]]:
    """PTB sends form fields (nested objects as JSON strings) or multipart with file parts."""
    params: Json = {}
    files: dict[str, bytes] = {}
    if not request.can_read_body:
        return params, files
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[name] = value.file.read()
        elif isinstance(value, str) and value[:1] in ("{", "["):
            params[name] = json.loads(value)
        else:
            params[name] = value
    return params, files


def text_entities(text: str, extra: list[Json]) -> list[Json]:
    """What Telegram marks up by itself: a leading /command and @mentions (UTF-16 offsets)."""
    found = list(extra)
    command = re.match(r"/\S+", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": u16(command[0])})
    for match in MENTION.finditer(text):
        offset = u16(text[: match.start()])
        found.append({"type": "mention", "offset": offset, "length": u16(match[0])})
    return sorted(found, key=lambda e: e["offset"])


def u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2

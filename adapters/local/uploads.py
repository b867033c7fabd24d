"""A video sent from a person's private panel: the local chat's way of sending the bot a file
privately, as a cameo selfie or (the Verify button) with /verify.

The page POSTs the file as the raw request body, naming its person in a header; a body must
state its length (a browser always does for a file), and that is the size the core checks. The
upload shows in the person's panel, and the core gets a `SelfieUpload` whose `fetch` reads the
body: only once the core has accepted the size, and never more than the limit and one byte more.
"""

from __future__ import annotations

import logging
from typing import Protocol

from aiohttp import web

from adapters.local.port import BOT
from adapters.local.room import Author, Room, RoomMessage
from adapters.local.session import Context
from bot.commands import SelfieUpload, VerifyUpload
from bot.enrollment import SELFIE
from bot.errors import SOMETHING_WRONG, BotError
from bot.replies import Refused, refusal
from bot.types import MessageRef

log = logging.getLogger(__name__)

MAX_SELFIE_BYTES = SELFIE.max_bytes
USER_HEADER = "X-Clipcrew-User"
# "verify": the video is sent with /verify, not as a cameo selfie.
PURPOSE_HEADER = "X-Clipcrew-Purpose"
_CHUNK_BYTES = 64 * 1024


class SelfieTooLarge(BotError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            f"That video is over {limit_bytes / 1_000_000:g} MB. Record a shorter selfie "
            "(15 seconds at most) and send it again."
        )


class Readable(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


async def read_capped(body: Readable, *, limit_bytes: int) -> bytes:
    """The whole body, read in chunks; SelfieTooLarge as soon as it passes `limit_bytes` (at
    most one byte past it is ever held)."""
    data = bytearray()
    while chunk := await body.read(min(_CHUNK_BYTES, limit_bytes + 1 - len(data))):
        data += chunk
        if len(data) > limit_bytes:
            raise SelfieTooLarge(limit_bytes)
    return bytes(data)


async def receive_selfie(request: web.Request, context: Context) -> web.Response:
    # 1. Whose panel: someone who has joined the room in a tab.
    person = context.people.get(request.headers.get(USER_HEADER, ""))
    if person is None:
        return _answer(403, "Join the chat (pick a name) before sending a video.")
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith(("video/", "application/octet-stream")):
        return _answer(415, "Send a video file (an MP4, WebM or MOV selfie clip).")
    declared = request.content_length
    if declared is None:
        # Without it the core could not refuse a huge file unread.
        return _answer(411, "Send the video as a file upload, with its size stated.")

    # 2. Show it in the panel, so the core's answer has something to reply to.
    panel = person.panel
    # "Verify" instead of "Upload": where did this video come from? (bot.verify)
    verifying = request.headers.get(PURPOSE_HEADER, "") == "verify"
    shown = RoomMessage(
        id=panel.new_id(),
        kind="chat",
        author=Author(user_id=person.user.user_id, name=person.user.display_name),
        text=f"📹 Sent a video ({_size(declared)})" + (" with /verify" if verifying else ""),
        data={"kind": "upload", "size_bytes": declared, "content_type": content_type[:100]},
    )
    panel.add(shown)

    # 3. The core decides; it reads the body through `fetch` only if the size is acceptable.
    fetched: list[bytes] = []

    async def fetch() -> bytes:
        if not fetched:
            fetched.append(await read_capped(request.content, limit_bytes=context.max_selfie_bytes))
        return fetched[0]

    kind = VerifyUpload if verifying else SelfieUpload
    upload = kind(
        author=person.user,
        chat=panel.chat,
        fetch=fetch,
        size_bytes=declared,
        message=MessageRef(panel.chat, shown.id),
    )
    log.info("local chat: selfie upload", extra={"size_bytes": declared})
    try:
        reply = await context.core.handle(upload)
    except SelfieTooLarge as error:
        # Read although over the limit (a core that does not check first): cut off, not kept.
        refused = refusal(error)
        panel.add(_refusal(panel, refused, reply_to=shown.id))
        return _answer(413, refused.text)
    except Exception:
        log.exception("local chat: the core failed on a selfie upload")
        return _answer(500, SOMETHING_WRONG)
    return _answer(200, str(getattr(reply, "text", "")))


def _refusal(panel: Room, refused: Refused, *, reply_to: str) -> RoomMessage:
    return RoomMessage(
        id=panel.new_id(),
        kind="notice",
        author=BOT,
        text=refused.text,
        reply_to=reply_to,
        quote=panel.quote_of(reply_to),
        data={"kind": "refused", "reason": refused.reason},
    )


def _size(size_bytes: int) -> str:
    if size_bytes < 1_000_000:
        return f"{max(size_bytes, 1) / 1000:.0f} kB"
    return f"{size_bytes / 1_000_000:.1f} MB"


def _answer(status: int, text: str) -> web.Response:
    return web.json_response({"ok": status == 200, "text": text}, status=status)

"""The core's way into the local room: `bot.ports.ChatPort` for platform "local"."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from urllib.parse import quote

from adapters.local.room import Author, Frame, Room, RoomMessage
from bot.ports import Capabilities, Notice
from bot.replies import ClipReady
from bot.types import ChatRef, MessageRef
from storage.blobs import BlobStore
from storage.errors import BadBlobKey

log = logging.getLogger(__name__)

PLATFORM = "local"
BOT = Author(user_id="clipcrew", name="clipcrew", is_bot=True)


class WrongChat(ValueError):
    """The core addressed a chat this server does not hold (the local chat has one room)."""


class LocalPort:
    platform = PLATFORM
    # Edits only travel over a local socket, but a progress bar redrawn more than five times a
    # second is flicker, not information.
    capabilities = Capabilities(
        edits=True, deletes=True, max_upload_bytes=None, min_edit_interval_s=0.2
    )

    def __init__(self, room: Room, blobs: BlobStore) -> None:
        self.room = room
        self.blobs = blobs

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        self._check(chat)
        reply_id = reply_to.message_id if reply_to else None
        message = RoomMessage(
            id=self.room.new_id(),
            kind="notice",
            author=BOT,
            text=reply.text,
            reply_to=reply_id,
            quote=self.room.quote_of(reply_id),
            data=notice_data(reply),
        )
        self.room.add(message)
        return MessageRef(self.room.chat, message.id)

    async def edit(self, message: MessageRef, reply: Notice) -> None:
        self._check(message.chat)
        if not self.room.update(message.message_id, text=reply.text, data=notice_data(reply)):
            # E.g. a status message from before a restart: the room forgot it, nothing to show.
            log.info(
                "local chat: edit of a message no longer shown",
                extra={"message_id": message.message_id},
            )

    async def delete(self, message: MessageRef) -> None:
        self._check(message.chat)
        self.room.remove(message.message_id)

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        self._check(chat)
        key = await self._stored_key(clip, video)
        reply_id = reply_to.message_id if reply_to else None
        message = RoomMessage(
            id=self.room.new_id(),
            kind="clip",
            author=BOT,
            text=clip.text,
            reply_to=reply_id,
            quote=self.room.quote_of(reply_id),
            data=clip_data(clip, key),
        )
        self.room.add(message)
        log.info(
            "local chat: clip posted", extra={"clip_id": clip.clip_id, "message_id": message.id}
        )
        return MessageRef(self.room.chat, message.id)

    async def _stored_key(self, clip: ClipReady, video: bytes) -> str:
        """The key the page fetches the video by. The engine normally stored it already; if
        this process cannot see that blob (a worker with its own folder), keep our own copy."""
        try:
            if self.blobs.exists(clip.blob_key):
                return clip.blob_key
        except BadBlobKey:
            log.warning(
                "local chat: clip has a malformed blob key", extra={"clip_id": clip.clip_id}
            )
        return await asyncio.to_thread(self.blobs.put, video, "mp4")

    def _check(self, chat: ChatRef) -> None:
        if chat.platform != PLATFORM or chat.chat_id != self.room.chat.chat_id:
            raise WrongChat(f"the local chat has one room {self.room.chat.chat_id!r}, not {chat!r}")


def notice_data(reply: Notice) -> Frame:
    """The reply's own fields, so the page can draw more than text (a progress bar)."""
    return {"kind": type(reply).__name__.lower(), **asdict(reply)}


def clip_data(clip: ClipReady, key: str) -> Frame:
    return {
        "kind": "clip",
        "url": f"/clips/{quote(key)}",
        "clip_id": clip.clip_id,
        "parent_clip_id": clip.parent_clip_id,
        "prompt": clip.prompt,
        "author": clip.author,
        "width": clip.width,
        "height": clip.height,
        "duration_s": clip.duration_s,
        "size_bytes": clip.size_bytes,
    }

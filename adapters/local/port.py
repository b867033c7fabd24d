"""The core's way into the local room: `bot.ports.ChatPort` for platform "local".

It writes to the shared room and to each person's private panel (the local chat's direct
messages); a note's choices become buttons whose payloads are signed for the chat they are in.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import asdict
from urllib.parse import quote

from adapters.local.people import PLATFORM, People
from adapters.local.room import Author, Frame, Room, RoomMessage
from bot.callbacks import Button, sign
from bot.ports import CannotDM, Capabilities, Notice
from bot.replies import ClipReady, Note
from bot.types import ChatRef, ChatUser, MessageRef
from storage.blobs import Blobs
from storage.errors import BadBlobKey

log = logging.getLogger(__name__)

BOT = Author(user_id="clipcrew", name="clipcrew", is_bot=True)


class WrongChat(ValueError):
    """The core addressed a chat this server does not hold: not the room, nor the private panel
    of anyone it has seen."""


class LocalPort:
    platform = PLATFORM
    # Edits only travel over a local socket, but a progress bar redrawn more than five times a
    # second is flicker, not information.
    capabilities = Capabilities(
        edits=True, deletes=True, max_upload_bytes=None, min_edit_interval_s=0.2, finds_clips=True
    )

    def __init__(self, room: Room, blobs: Blobs, *, people: People, secret: bytes) -> None:
        self.room = room
        self.blobs = blobs
        self.people = people
        # Signs the buttons under notes; the session verifies a press with the same secret.
        self.secret = secret

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        return self._post(self._feed(chat), reply, reply_to=reply_to)

    def link(self, message: MessageRef) -> str | None:
        # One room on one page: every message is already in view.
        return None

    async def find_clip(self, chat: ChatRef, clip_id: int) -> MessageRef | None:
        feed = self._feed(chat)
        for message in feed.messages():
            if message.kind == "clip" and (message.data or {}).get("clip_id") == clip_id:
                return MessageRef(feed.chat, message.id)
        return None

    async def dm(self, user: ChatUser, note: Note) -> MessageRef:
        """Into the person's private panel: their open tabs show it now, later tabs on joining."""
        person = self.people.get(user.user_id) if user.platform == PLATFORM else None
        if person is None:
            raise CannotDM(user.handle)
        return self._post(person.panel, note, reply_to=None)

    def _post(self, feed: Room, reply: Notice, *, reply_to: MessageRef | None) -> MessageRef:
        reply_id = reply_to.message_id if reply_to else None
        message = RoomMessage(
            id=feed.new_id(),
            kind="notice",
            author=BOT,
            text=reply.text,
            reply_to=reply_id,
            quote=feed.quote_of(reply_id),
            data=notice_data(reply, chat_id=feed.chat.chat_id, secret=self.secret),
        )
        feed.add(message)
        return MessageRef(feed.chat, message.id)

    async def edit(self, message: MessageRef, reply: Notice) -> None:
        feed = self._feed(message.chat)
        data = notice_data(reply, chat_id=feed.chat.chat_id, secret=self.secret)
        if not feed.update(message.message_id, text=reply.text, data=data):
            # E.g. a status message from before a restart: the room forgot it, nothing to show.
            log.info(
                "local chat: edit of a message no longer shown",
                extra={"message_id": message.message_id},
            )

    async def delete(self, message: MessageRef) -> None:
        self._feed(message.chat).remove(message.message_id)

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        feed = self._feed(chat)
        key = await self._stored_key(clip, video)
        reply_id = reply_to.message_id if reply_to else None
        message = RoomMessage(
            id=feed.new_id(),
            kind="clip",
            author=BOT,
            text=clip.text,
            reply_to=reply_id,
            quote=feed.quote_of(reply_id),
            # The ❤️ button: the local chat has no reactions of its own.
            data={**clip_data(clip, key), "like": self._like(feed, clip.clip_id)},
        )
        feed.add(message)
        log.info(
            "local chat: clip posted", extra={"clip_id": clip.clip_id, "message_id": message.id}
        )
        return MessageRef(feed.chat, message.id)

    async def _stored_key(self, clip: ClipReady, video: bytes) -> str:
        """The key the page fetches the video by. The engine normally stored it already; if
        this process cannot see that blob (a worker with its own folder), keep our own copy."""
        try:
            if await self.blobs.exists(clip.blob_key):
                return clip.blob_key
        except BadBlobKey:
            log.warning(
                "local chat: clip has a malformed blob key", extra={"clip_id": clip.clip_id}
            )
        return await self.blobs.put(video, "mp4")

    def _like(self, feed: Room, clip_id: int) -> str:
        return sign(Button("like", clip_id), chat_id=feed.chat.chat_id, secret=self.secret)

    def _feed(self, chat: ChatRef) -> Room:
        """The room, or the private panel of a person seen; WrongChat for anything else."""
        if chat.platform == PLATFORM and chat.chat_id == self.room.chat.chat_id:
            return self.room
        person = self.people.by_chat(chat)
        if person is None:
            raise WrongChat(
                f"the local chat has the room {self.room.chat.chat_id!r} and private panels "
                f"of people it has seen, not {chat!r}"
            )
        return person.panel


def notice_data(reply: Notice, *, chat_id: str, secret: bytes) -> Frame:
    """The reply's own fields, so the page can draw more than text (a progress bar, buttons).
    A note's choices go out as labels with payloads signed for the chat they are shown in."""
    # A Note's choices, or a status message's Cancel (Queued and Progress have choices too).
    choices = [
        {"label": choice.label, "payload": sign(choice.button, chat_id=chat_id, secret=secret)}
        for choice in getattr(reply, "choices", ())
    ]
    if isinstance(reply, Note):
        return {"kind": "note", "text": reply.text, "choices": choices}
    data: Frame = {"kind": type(reply).__name__.lower(), **asdict(reply)}
    if choices:
        data["choices"] = choices
    preview = data.pop("preview", None)
    if isinstance(preview, bytes):
        # A preview frame is a few kB of JPEG: inline, so the page needs no second request.
        data["preview"] = "data:image/jpeg;base64," + base64.b64encode(preview).decode()
    return data


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

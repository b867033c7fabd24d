"""Working fakes of the *other* side of the part under test: a chat port that records what the
core asks of it, and a queue that records what was enqueued."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.ports import CannotDM, Capabilities, Notice, UploadTooLarge
from bot.replies import ClipReady, Note
from bot.types import ChatRef, ChatUser, MessageRef
from engine.queue import MODERATE_TEXT, LightTaskFailed, LightTaskTimeout, Payload, QueueUnavailable


@dataclass
class Sent:
    action: str
    chat: ChatRef
    reply: Any
    message_id: str
    reply_to: MessageRef | None = None
    video: bytes | None = None


@dataclass
class RecordingPort:
    platform: str = "test"
    capabilities: Capabilities = field(default_factory=Capabilities)
    sent: list[Sent] = field(default_factory=list)
    fail_clip_uploads: int = 0
    # Refuse this many uploads as too large, the way a platform's HTTP 413 does.
    refuse_as_too_large: int = 0
    # User ids the platform will not let the bot message privately.
    no_dms: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def post(
        self, chat: ChatRef, reply: Notice, *, reply_to: MessageRef | None
    ) -> MessageRef:
        message_id = str(next(self._ids))
        self.sent.append(Sent("post", chat, reply, message_id, reply_to))
        return MessageRef(chat, message_id)

    async def edit(self, message: MessageRef, reply: Notice) -> None:
        self.sent.append(Sent("edit", message.chat, reply, message.message_id))

    async def delete(self, message: MessageRef) -> None:
        self.sent.append(Sent("delete", message.chat, None, message.message_id))

    async def send_clip(
        self, chat: ChatRef, clip: ClipReady, video: bytes, *, reply_to: MessageRef | None
    ) -> MessageRef:
        if self.refuse_as_too_large:
            self.refuse_as_too_large -= 1
            raise UploadTooLarge(None)
        if self.fail_clip_uploads:
            self.fail_clip_uploads -= 1
            raise ConnectionError("upload failed")
        message_id = str(next(self._ids))
        self.sent.append(Sent("clip", chat, clip, message_id, reply_to, video))
        return MessageRef(chat, message_id)

    async def dm(self, user: ChatUser, note: Note) -> MessageRef:
        if user.user_id in self.no_dms:
            raise CannotDM(user.handle)
        chat = dm_chat(user)
        message_id = str(next(self._ids))
        self.sent.append(Sent("dm", chat, note, message_id))
        return MessageRef(chat, message_id)

    def link(self, message: MessageRef) -> str | None:
        return f"https://chat.test/{message.chat.chat_id}/{message.message_id}"

    async def find_clip(self, chat: ChatRef, clip_id: int) -> MessageRef | None:
        # Like a platform's history: the clips this port posted, looked up by their number.
        for sent in self.sent:
            if sent.action == "clip" and sent.chat == chat and sent.reply.clip_id == clip_id:
                return MessageRef(chat, sent.message_id)
        return None

    def dms_to(self, user: ChatUser) -> list[Sent]:
        return [s for s in self.sent if s.action == "dm" and s.chat == dm_chat(user)]

    def of(self, action: str) -> list[Sent]:
        return [s for s in self.sent if s.action == action]

    def replies(self) -> list[Any]:
        return [s.reply for s in self.sent]


async def wait_for_clips(port: RecordingPort, count: int = 1) -> None:
    # Polling a recording is the simplest honest wait here; the deadline keeps a hang short.
    async with asyncio.timeout(60):
        while len(port.of("clip")) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@dataclass
class RecordingQueue:
    enqueued: list[str] = field(default_factory=list)
    broken: bool = False
    # Like Redis restarting: enqueue fails the way ArqQueue's does when it can't connect.
    unreachable: bool = False

    async def enqueue(self, job_id: str, *, attempt: int = 0) -> bool:
        if self.broken:
            raise ConnectionError("queue is down")
        if self.unreachable:
            raise QueueUnavailable("the job queue at redis is unreachable (ConnectionError)")
        if job_id in self.enqueued:
            return False
        self.enqueued.append(job_id)
        return True

    async def close(self) -> None:
        return None


@dataclass
class RecordingLight:
    """A light pool for core tests (engine.queue.LightCalls). `moderate_text` is permissive by
    default: every text scores 0 in every category, which every preset allows, so tests that
    are not about moderation are not refused. A test about moderation gives `scores`: a text
    containing a key (any case) gets that key's scores. `down` makes every call time out, the
    way an absent light pool does. Calls are recorded."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    down: bool = False
    # How long an answer takes, like a light worker's round trip.
    delay_s: float = 0.0
    calls: list[tuple[str, Payload]] = field(default_factory=list)

    async def call(self, task: str, payload: Payload, *, timeout_s: float) -> Payload:
        self.calls.append((task, payload))
        await asyncio.sleep(self.delay_s)
        if self.down:
            raise LightTaskTimeout(f"{task} took over {timeout_s:g} s")
        if task != MODERATE_TEXT:
            raise LightTaskFailed(f"this stand-in runs only {MODERATE_TEXT}")
        return {
            "results": [
                {"scores": self._scores(text), "rule_hits": []} for text in payload["texts"]
            ]
        }

    def _scores(self, text: str) -> dict[str, float]:
        found: dict[str, float] = {}
        for key, scores in self.scores.items():
            if key.lower() in text.lower():
                for category, score in scores.items():
                    found[category] = max(score, found.get(category, 0.0))
        return found

    def texts(self) -> list[str]:
        return [text for _, payload in self.calls for text in payload.get("texts", [])]

    async def close(self) -> None:
        return None


CHAT = ChatRef(platform="test", chat_id="room-1", title="Test room")
OTHER_CHAT = ChatRef(platform="test", chat_id="room-2", title="Elsewhere")


def person(n: int = 1, platform: str = "test") -> ChatUser:
    return ChatUser(
        platform=platform, user_id=f"u{n}", display_name=f"Person {n}", username=f"person{n}"
    )


def message(message_id: str, chat: ChatRef = CHAT) -> MessageRef:
    return MessageRef(chat, message_id)


def dm_chat(user: ChatUser) -> ChatRef:
    """The private chat with one person, as the recording port names it."""
    return ChatRef(platform=user.platform, chat_id=f"dm-{user.user_id}", title=user.display_name)


@dataclass
class EngineLight:
    """Runs `tasks` for real, in this process, through the engine's own light tasks
    (engine.light.InProcessLight); any other task (the prompt check) goes to the permissive
    stand-in, as in every core test that is not about it."""

    real: Any
    tasks: frozenset[str]
    others: RecordingLight = field(default_factory=RecordingLight)

    @classmethod
    def over(cls, db: Any, blobs: Any, *tasks: str, faces: Any = None) -> EngineLight:
        from engine.cameos import FaceModels
        from engine.light import InProcessLight, LightContext

        context = LightContext(db=db, blobs=blobs, faces=faces or FaceModels(), owns_db=False)
        return cls(InProcessLight(context), frozenset(tasks))

    async def call(self, task: str, payload: Payload, *, timeout_s: float) -> Payload:
        target = self.real if task in self.tasks else self.others
        answer: Payload = await target.call(task, payload, timeout_s=timeout_s)
        return answer

    async def close(self) -> None:
        return None

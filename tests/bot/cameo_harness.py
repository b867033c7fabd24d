"""The cameo tests' people, commands and steps: enrolling (with the real face checks, or a row
as enrollment leaves it), asking for a clip with someone in it, and the owner's answer.

Each person is `person(n)` from tests.fakes: user id u<n>, username person<n>.
"""

from __future__ import annotations

from sqlmodel import select

from bot.commands import AnswerConsent, CameoCommand, Generate, SelfieUpload
from bot.replies import Note, Refused
from bot.types import ChatRef
from engine.cameos import FaceModels
from engine.events import JobEvent
from engine.faces.dlib_backend import DlibAnalyzer
from engine.queue import VERIFY_SELFIE
from storage import jobs as job_rows
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import Cameo, Clip, Job
from tests.bot.harness import Bot, finish, make_bot
from tests.fakes import CHAT, EngineLight, dm_chat, message, person

ALICE, BOB, CAROL = person(1), person(2), person(3)
OTHER_ROOM = ChatRef(platform="test", chat_id="room-2", title="Other room")


def cameo_core(any_db: Database, blobs: BlobStore, analyzer: DlibAnalyzer) -> Bot:
    """The cameo test modules' `bot` (each declares `bot = pytest.fixture(cameo_core, name="bot")`):
    on both databases, since the cameo queries (case-insensitive names, JSON columns) must agree;
    the selfie check runs as the light task it is, in this process, on the shared face model."""
    faces = FaceModels()
    faces.use(analyzer)
    return make_bot(
        any_db, blobs, light=EngineLight.over(any_db, blobs, VERIFY_SELFIE, faces=faces)
    )


def upload(who: int, video: bytes, *, size: int | None = None) -> SelfieUpload:
    user = person(who)

    async def fetch() -> bytes:
        return video

    return SelfieUpload(
        author=user,
        chat=dm_chat(user),
        fetch=fetch,
        size_bytes=len(video) if size is None else size,
        message=message("up", dm_chat(user)),
    )


def cameo(who: int, args: str = "", chat: ChatRef = CHAT) -> CameoCommand:
    return CameoCommand(args=args, author=person(who), chat=chat, message=message("c", chat))


def sora(prompt: str, who: int = 2, chat: ChatRef = CHAT) -> Generate:
    return Generate(prompt=prompt, author=person(who), chat=chat, message=message("m", chat))


async def enroll(bot: Bot, who: int, selfie: bytes) -> Note | Refused:
    await bot.core.handle(cameo(who))
    reply = await bot.core.handle(upload(who, selfie))
    assert isinstance(reply, Note | Refused)
    return reply


async def make_cameo(bot: Bot, who: int, *, audience: str = "approved") -> Cameo:
    """A cameo row as enrollment leaves it, without running the face checks (for the tests
    about consent, which never look at the face)."""
    await bot.core.handle(cameo(who))  # creates the user and opens an enrollment
    async with bot.db.transaction() as session:
        user = (
            await session.exec(
                select(job_rows.User).where(job_rows.User.platform_user_id == f"u{who}")
            )
        ).one()
        assert user.id is not None
        row = Cameo(
            owner_id=user.id,
            audience=audience,
            spoken_code="1234",
            face_model="dlib",
            embedding=[0.0] * 128,
        )
        session.add(row)
        await session.flush()
    return row


async def the_job(bot: Bot) -> Job:
    async with bot.db.session() as session:
        return (await session.exec(select(Job).order_by(Job.created_at.desc()))).first()  # type: ignore[attr-defined]


def consent_request(bot: Bot, who: int) -> tuple[Note, int]:
    """The last consent request DMed to person `who`, and its approval id."""
    notes = [s.reply for s in bot.port.dms_to(person(who)) if s.reply.choices]
    assert notes, f"person {who} got no consent request"
    note = notes[-1]
    return note, note.choices[0].button.target_id


def press(bot: Bot, approval_id: int, answer: str, who: int = 1) -> AnswerConsent:
    user = person(who)
    return AnswerConsent(
        approval_id=approval_id,
        answer=answer,  # type: ignore[arg-type]
        author=user,
        chat=dm_chat(user),
        message=message("dm", dm_chat(user)),
    )


async def clip_with_alice(bot: Bot, audience: str) -> Clip:
    """A posted clip of Alice's own, with her cameo (set to `audience`) in it."""
    await make_cameo(bot, 1, audience=audience)
    await bot.core.handle(sora("@person1 plays the tuba", who=1))  # her own: no asking
    job = await the_job(bot)
    clip = await finish(bot, job.id)
    await bot.core.on_event(JobEvent(job_id=job.id, kind="done", clip_id=clip.id))
    return clip

"""Enrolling a verified likeness: the code to say, then the selfie clip checked and kept.

The face checks themselves run in a light worker (`engine.queue.VERIFY_SELFIE`): the bot stores
the clip, asks, and records the answer, so the bot process never loads a face model.
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.cameos import AUDIENCE_WORDS, CONTROLS, Owner, owner_of
from bot.commands import SelfieUpload
from bot.consent import Audience
from bot.deps import Deps
from bot.replies import Note, Refused
from bot.types import ChatUser
from engine.api import EnrollmentLimits
from engine.queue import VERIFY_SELFIE, LightTaskError
from storage import cameos as cameo_rows
from storage.models import Cameo, utcnow

SELFIE = EnrollmentLimits()

# A light worker checks a 15 s clip in a few seconds; this covers a first model load too.
SELFIE_CHECK_TIMEOUT_S = 90.0


async def start_enrollment(deps: Deps, author: ChatUser) -> Note:
    owner = await owner_of(deps, author)
    assert owner.user.id is not None
    code = f"{secrets.randbelow(10_000):04d}"
    async with deps.db.transaction() as session:
        await cameo_rows.open_enrollment(session, owner.user.id, code)
    again = "This replaces your current cameo once it passes. " if owner.cameo else ""
    return Note(
        f"🎥 Let's make your cameo. {again}Send me a selfie video here "
        f"(at most {SELFIE.max_seconds:.0f} s):\n"
        f"1. Look into the camera and say your code: {' '.join(code)}\n"
        "2. Turn your head slowly to the left, then to the right.\n"
        "Just you in the picture, good light, face filling a good part of the frame. "
        "I check that it is a real, live face and that it isn't someone else's cameo."
    )


async def enroll(deps: Deps, command: SelfieUpload) -> Note | Refused:
    """Have a light worker check an uploaded selfie clip and, when it passes, make (or
    replace) the cameo."""
    owner = await owner_of(deps, command.author)
    assert owner.user.id is not None
    async with deps.db.session() as session:
        enrollment = await cameo_rows.enrollment_of(session, owner.user.id)
    if enrollment is None:
        return Refused("To make a cameo, send /cameo first: I'll give you a code to say.")
    if command.size_bytes is not None and command.size_bytes > SELFIE.max_bytes:
        return Refused(_too_large(command.size_bytes))
    if deps.light is None:
        return Refused("Cameos aren't available on this bot right now.")
    video = await command.fetch()
    if len(video) > SELFIE.max_bytes:
        return Refused(_too_large(len(video)))
    key = await deps.blobs.put(video, "mp4")
    check = {
        "user_id": owner.user.id,
        "video_key": key,
        "max_bytes": SELFIE.max_bytes,
        "max_seconds": SELFIE.max_seconds,
    }
    try:
        answer = await deps.light.call(VERIFY_SELFIE, check, timeout_s=SELFIE_CHECK_TIMEOUT_S)
    except LightTaskError as error:
        return Refused(str(error))
    finally:
        # Only the embedding and a few crops are kept, never the clip itself.
        await deps.blobs.delete(key)
    if "refused" in answer:
        return Refused(str(answer["refused"]))
    cameo = await _keep(deps, owner, answer, enrollment.code)
    figures = answer["figures"]
    return Note(
        f"✅ Your cameo is ready, {owner.user.handle}.\n"
        f"• Code you were asked to say: {enrollment.code} (kept with your cameo; I don't "
        "check speech yet)\n"
        f"• Head turn seen: {answer['yaw_span']:.0f}°, same face in "
        f"{figures['frames_with_one_face']} of {figures['frames_sampled']} frames\n"
        f"• Who may use it: {AUDIENCE_WORDS[Audience(cameo.audience)]}\n\n"
        f"Friends put you in a clip by mentioning you: /sora … {owner.user.handle}\n\n"
        f"{CONTROLS}"
    )


def _too_large(size: int) -> str:
    return (
        f"That video is {size / 1e6:.1f} MB; the limit is {SELFIE.max_bytes / 1e6:.0f} MB. "
        "A short clip of a few seconds is all it takes."
    )


async def _keep(deps: Deps, owner: Owner, verified: dict[str, Any], code: str) -> Cameo:
    """Record the likeness the light worker verified (its crops are already stored)."""
    keys = [str(key) for key in verified["crop_keys"]]
    assert owner.user.id is not None
    async with deps.db.transaction() as session:
        cameo = await cameo_rows.cameo_of(session, owner.user.id)
        old_keys = list(cameo.crop_keys) if cameo is not None else []
        if cameo is None:
            cameo = Cameo(owner_id=owner.user.id, spoken_code=code, face_model="", embedding=[])
        cameo.spoken_code = code
        cameo.face_model = str(verified["face_model"])
        cameo.embedding = [float(x) for x in verified["embedding"]]
        cameo.crop_keys = keys
        cameo.figures = dict(verified["figures"])
        cameo.updated_at = utcnow()
        session.add(cameo)
        await cameo_rows.close_enrollment(session, owner.user.id)
        await session.flush()
    for key in set(old_keys) - set(keys):
        await deps.blobs.delete(key)
    return cameo

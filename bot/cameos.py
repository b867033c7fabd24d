"""`/cameo`: enrolling a verified likeness, and the owner's controls over it.

Everything here is answered privately (see `Core._privately`). The face checks themselves run in
a light worker (`engine.queue.VERIFY_SELFIE`): the bot stores the clip, asks, and records the
answer, so the bot process never loads a face model.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot import consent_checks
from bot.commands import CameoCommand, SelfieUpload
from bot.consent import Audience
from bot.deletion import remove_clips
from bot.delivery import tell_requester
from bot.deps import Deps
from bot.ports import ChatPort
from bot.replies import Note, Refused
from bot.rows import person, row_id
from bot.types import ChatRef, ChatUser, MessageRef
from engine.api import EnrollmentLimits
from engine.queue import VERIFY_SELFIE, LightTaskError
from storage import cameos as cameo_rows
from storage import deliveries
from storage.models import Cameo, User, utcnow
from storage.people import upsert_user

log = logging.getLogger(__name__)

SELFIE = EnrollmentLimits()

# Clips listed by /cameo clips; a chat message has a length limit (Telegram: 4,096 characters).
LISTED = 25
# A light worker checks a 15 s clip in a few seconds; this covers a first model load too.
SELFIE_CHECK_TIMEOUT_S = 90.0

_AUDIENCES = {
    "only_me": Audience.ONLY_ME,
    "only me": Audience.ONLY_ME,
    "me": Audience.ONLY_ME,
    "private": Audience.ONLY_ME,
    "approved": Audience.APPROVED,
    "approve": Audience.APPROVED,
    "ask": Audience.APPROVED,
    "ask me": Audience.APPROVED,
    "everyone": Audience.EVERYONE,
    "all": Audience.EVERYONE,
    "public": Audience.EVERYONE,
}
_AUDIENCE_WORDS = {
    Audience.ONLY_ME: "only you",
    Audience.APPROVED: "people you approve (you are asked each time, unless you always allow them)",
    Audience.EVERYONE: "everyone",
}

CONTROLS = (
    "• /cameo audience only_me | approved | everyone\n"
    "• /cameo here: only in the chat you type it in (/cameo anywhere undoes it)\n"
    "• /cameo prefs <text>: added to every prompt with you, e.g. always wearing a red hat\n"
    "• /cameo clips: every clip you appear in\n"
    "• /cameo delete <clip number>: take one down\n"
    "• /cameo revoke @name: stop always allowing someone\n"
    "• /cameo enroll: record a new selfie clip\n"
    "• /cameo forget: delete your cameo and every clip with it"
)


@dataclass(frozen=True)
class Owner:
    user: User
    cameo: Cameo | None


async def _owner(deps: Deps, author: ChatUser) -> Owner:
    async with deps.db.transaction() as session:
        user = await upsert_user(
            session,
            platform=author.platform,
            platform_user_id=author.user_id,
            display_name=author.display_name,
            username=author.username,
        )
        assert user.id is not None
        return Owner(user, await cameo_rows.cameo_of(session, user.id))


# Enrollment -----------------------------------------------------------------------------------


async def start_enrollment(deps: Deps, author: ChatUser) -> Note:
    owner = await _owner(deps, author)
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
    owner = await _owner(deps, command.author)
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
        f"• Who may use it: {_AUDIENCE_WORDS[Audience(cameo.audience)]}\n\n"
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


# Owner controls -------------------------------------------------------------------------------


async def control(deps: Deps, ports: dict[str, ChatPort], command: CameoCommand) -> Note | Refused:
    """Everything `/cameo <words>` does; the answer is for the owner's eyes."""
    verb, _, rest = command.args.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("enroll", "new", "redo", "start"):
        return await start_enrollment(deps, command.author)
    owner = await _owner(deps, command.author)
    if owner.cameo is None:
        if verb in ("", "help"):
            return await start_enrollment(deps, command.author)
        return Refused("You don't have a cameo yet. Send /cameo to make one.")
    return await _owner_control(deps, ports, command, owner, verb, rest)


async def _owner_control(
    deps: Deps,
    ports: dict[str, ChatPort],
    command: CameoCommand,
    owner: Owner,
    verb: str,
    rest: str,
) -> Note | Refused:
    cameo, user = owner.cameo, owner.user
    assert cameo is not None
    if verb in ("", "help", "status", "settings"):
        return await _status(deps, user, cameo)
    if verb in ("here", "anywhere"):
        return await _set_chats(deps, ports, cameo, command, verb == "here")
    actions: dict[str, Callable[[], Awaitable[Note | Refused]]] = {
        "audience": lambda: _set_audience(deps, ports, cameo, rest),
        "prefs": lambda: _set_preferences(deps, cameo, rest),
        "preferences": lambda: _set_preferences(deps, cameo, rest),
        "clips": lambda: _list_clips(deps, ports, cameo, user),
        "delete": lambda: _delete_one(deps, ports, user, rest),
        "revoke": lambda: _revoke(deps, ports, cameo, command.author.platform, rest),
        "forget": lambda: forget(deps, ports, user, cameo),
    }
    action = actions.get(verb)
    if action is None:
        return Refused(f"I don't know /cameo {verb}. Here is what I can do:\n{CONTROLS}")
    return await action()


async def _status(deps: Deps, user: User, cameo: Cameo) -> Note:
    assert cameo.id is not None
    async with deps.db.session() as session:
        granted = await cameo_rows.granted_users(session, cameo.id)
    where = (
        f"only in {len(cameo.only_in_chats)} chat(s) you chose"
        if cameo.only_in_chats is not None
        else "in any chat"
    )
    allowed = ", ".join(u.handle for u in granted) or "nobody yet"
    prefs = cameo.preferences or "none"
    return Note(
        f"🪪 Your cameo ({user.handle})\n"
        f"• Who may use it: {_AUDIENCE_WORDS[Audience(cameo.audience)]}, {where}\n"
        f"• Always allowed: {allowed}\n"
        f"• Preferences: {prefs}\n"
        f"• Code you said at enrollment: {cameo.spoken_code} (not checked by speech)\n\n"
        f"{CONTROLS}"
    )


async def _set_audience(
    deps: Deps, ports: dict[str, ChatPort], cameo: Cameo, word: str
) -> Note | Refused:
    audience = _AUDIENCES.get(word.lower().strip())
    if audience is None:
        return Refused("Say who may use your cameo: /cameo audience only_me, approved or everyone")
    async with deps.db.transaction() as session:
        cameo.audience = audience.value
        cameo.updated_at = utcnow()
        session.add(cameo)
    assert cameo.id is not None
    cancelled = await consent_checks.reconsider(deps, ports, cameo.id)
    return Note(f"👍 Your cameo is now for {_AUDIENCE_WORDS[audience]}.{_cancelled(cancelled)}")


async def _set_chats(
    deps: Deps, ports: dict[str, ChatPort], cameo: Cameo, command: CameoCommand, here: bool
) -> Note | Refused:
    if here:
        chats = set(cameo.only_in_chats or []) | {command.chat.chat_id}
        cameo.only_in_chats = sorted(chats)
        text = "👍 Your cameo can be used in this chat"
        text += " and the others you chose." if len(chats) > 1 else " only."
    else:
        cameo.only_in_chats = None
        text = "👍 Your cameo can be used in any chat (still only by the audience you chose)."
    async with deps.db.transaction() as session:
        cameo.updated_at = utcnow()
        session.add(cameo)
    assert cameo.id is not None
    cancelled = await consent_checks.reconsider(deps, ports, cameo.id)
    return Note(text + _cancelled(cancelled))


async def _set_preferences(deps: Deps, cameo: Cameo, text: str) -> Note | Refused:
    text = " ".join(text.split())
    if len(text) > 300:
        return Refused(f"Keep preferences under 300 characters (that was {len(text)}).")
    async with deps.db.transaction() as session:
        cameo.preferences = text
        cameo.updated_at = utcnow()
        session.add(cameo)
    if not text:
        return Note("👍 Preferences cleared.")
    return Note(f"👍 Every clip with you will add: “{text}”")


async def _list_clips(deps: Deps, ports: dict[str, ChatPort], cameo: Cameo, owner: User) -> Note:
    assert cameo.id is not None
    async with deps.db.session() as session:
        seen = await cameo_rows.clips_with_cameo(session, cameo.id)
        shown = [await deliveries.messages_of(session, row_id(item.clip)) for item in seen[:LISTED]]
    if not seen:
        return Note("You are not in any clip yet.")
    lines = []
    for item, messages in zip(seen, shown, strict=False):
        where = item.chat.title or item.chat.platform
        match = f", face match {item.similarity:.0%}" if item.similarity is not None else ""
        links = [_link(ports, *at) for at in messages]
        opened = "".join(f"\n   {link}" for link in links if link)
        # And its entry on that chat's feed page, by a link signed for the owner.
        chat = ChatRef(item.chat.platform, item.chat.platform_chat_id)
        viewer = ChatUser(owner.platform, owner.platform_user_id, owner.display_name)
        opened += f"\n   🌐 {deps.feed_links.clip_url(chat, viewer, row_id(item.clip))}"
        lines.append(
            f"#{item.clip.id} “{item.clip.prompt[:60]}” by {item.author.handle} in {where}"
            f"{match}{opened}"
        )
    more = f"\n…and {len(seen) - LISTED} more." if len(seen) > LISTED else ""
    return Note(
        "🎞️ Clips you appear in (newest first):\n"
        + "\n".join(lines)
        + more
        + "\n\nTake one down with /cameo delete <number>."
    )


async def _delete_one(
    deps: Deps, ports: dict[str, ChatPort], user: User, number: str
) -> Note | Refused:
    from bot.deletion import may_delete

    clip_id = number.lstrip("#")
    if not clip_id.isdigit():
        return Refused("Say which clip: /cameo delete <number> (see /cameo clips).")
    refusal = await may_delete(deps, int(clip_id), person(user))
    if refusal is not None:
        return refusal
    await remove_clips(deps, [int(clip_id)], ports)
    return Note(f"🗑️ Clip #{clip_id} was deleted.")


async def _revoke(
    deps: Deps, ports: dict[str, ChatPort], cameo: Cameo, platform: str, name: str
) -> Note | Refused:
    handle = name.strip().lstrip("@")
    if not handle:
        return Refused("Say whom: /cameo revoke @name")
    assert cameo.id is not None
    async with deps.db.transaction() as session:
        granted = await cameo_rows.granted_users(session, cameo.id)
        match = [
            user
            for user in granted
            if user.platform == platform
            and handle.lower() in ((user.username or "").lower(), user.display_name.lower())
        ]
        for user in match:
            assert user.id is not None
            await cameo_rows.revoke(session, cameo.id, user.id)
    if not match:
        return Refused(f"@{handle} isn't on your always-allowed list.")
    cancelled = await consent_checks.reconsider(deps, ports, cameo.id)
    return Note(
        f"👍 {match[0].handle} will be asked again before using your cameo.{_cancelled(cancelled)}"
    )


async def forget(deps: Deps, ports: dict[str, ChatPort], user: User, cameo: Cameo) -> Note:
    """Delete the cameo, its embedding and crops, every clip with it and their remixes; cancel
    unfinished jobs using it. Returns the receipt."""
    assert cameo.id is not None and user.id is not None
    async with deps.db.session() as session:
        seen = [item.clip.id for item in await cameo_rows.clips_with_cameo(session, cameo.id)]
        clip_ids = [clip_id for clip_id in seen if clip_id is not None]
        remixes = await cameo_rows.remixes_of(session, clip_ids)
        granted = await cameo_rows.granted_users(session, cameo.id)
        active = await cameo_rows.active_uses_of_cameo(session, cameo.id)
    # Unfinished jobs first, so none of them finishes with the face after it is forgotten.
    from storage import jobs as job_rows
    from storage.models import JobState

    cancelled = 0
    for _, job in active:
        async with deps.db.transaction() as session:
            moved = await job_rows.transition(session, job.id, JobState.CANCELLED, error="forgot")
        if moved:
            cancelled += 1
            await tell_requester(deps, ports, job.id, consent_checks.withdrawn_failure(user.handle))
    removed = await remove_clips(deps, clip_ids + remixes, ports)
    crops = list(cameo.crop_keys)
    async with deps.db.transaction() as session:
        fresh = await session.get(Cameo, cameo.id)
        if fresh is not None:
            await cameo_rows.delete_cameo(session, fresh)
        await cameo_rows.close_enrollment(session, user.id)
    for key in crops:
        await deps.blobs.delete(key)
    log.info("cameo forgotten", extra={"clips": removed, "cancelled": cancelled})
    listed = ", ".join(f"#{clip_id}" for clip_id in clip_ids + remixes) or "none"
    return Note(
        "🧹 Done. I forgot your cameo. Receipt:\n"
        f"• your face data: 1 embedding ({cameo.face_model}) and {len(crops)} reference "
        "picture(s), deleted\n"
        f"• clips with you: {len(clip_ids)}, and remixes of them: {len(remixes)}, deleted "
        f"and taken down from the chats ({listed})\n"
        f"• people you always allowed: {len(granted)}, forgotten\n"
        f"• unfinished clips with you: {cancelled}, cancelled\n"
        "Send /cameo if you ever want a new one."
    )


def _link(ports: dict[str, ChatPort], platform: str, chat_id: str, message_id: str) -> str | None:
    port = ports.get(platform)
    return port.link(MessageRef(ChatRef(platform, chat_id), message_id)) if port else None


def _cancelled(count: int) -> str:
    if not count:
        return ""
    clips = "clip" if count == 1 else "clips"
    return f" {count} unfinished {clips} that no longer fit were cancelled."

"""`/cameo <words>`: the owner's controls over their cameo, and forgetting it.

Everything here is answered privately (see `Core._privately`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import consent_checks
from bot.cameos import AUDIENCE_WORDS, AUDIENCES, CONTROLS, Owner, owner_of
from bot.commands import CameoCommand
from bot.consent import Audience
from bot.deletion import may_delete, remove_clips
from bot.delivery import tell_requester
from bot.deps import Deps
from bot.enrollment import start_enrollment
from bot.ports import ChatPort
from bot.replies import Note, Refused
from bot.rows import chat_ref, chat_user, person, row_id
from bot.types import ChatRef, MessageRef
from storage import cameos as cameo_rows
from storage import deliveries
from storage import jobs as job_rows
from storage.models import Cameo, JobState, User, utcnow

log = logging.getLogger(__name__)

# Clips listed by /cameo clips; a chat message has a length limit (Telegram: 4,096 characters).
LISTED = 25


async def control(deps: Deps, ports: dict[str, ChatPort], command: CameoCommand) -> Note | Refused:
    """Everything `/cameo <words>` does; the answer is for the owner's eyes."""
    verb, _, rest = command.args.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("enroll", "new", "redo", "start"):
        return await start_enrollment(deps, command.author)
    owner = await owner_of(deps, command.author)
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
        f"• Who may use it: {AUDIENCE_WORDS[Audience(cameo.audience)]}, {where}\n"
        f"• Always allowed: {allowed}\n"
        f"• Preferences: {prefs}\n"
        f"• Code you said at enrollment: {cameo.spoken_code} (not checked by speech)\n\n"
        f"{CONTROLS}"
    )


async def _set_audience(
    deps: Deps, ports: dict[str, ChatPort], cameo: Cameo, word: str
) -> Note | Refused:
    audience = AUDIENCES.get(word.lower().strip())
    if audience is None:
        return Refused("Say who may use your cameo: /cameo audience only_me, approved or everyone")
    async with deps.db.transaction() as session:
        cameo.audience = audience.value
        cameo.updated_at = utcnow()
        session.add(cameo)
    assert cameo.id is not None
    cancelled = await consent_checks.reconsider(deps, ports, cameo.id)
    return Note(f"👍 Your cameo is now for {AUDIENCE_WORDS[audience]}.{_cancelled(cancelled)}")


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
        link = deps.feed_links.clip_url(chat_ref(item.chat), chat_user(owner), row_id(item.clip))
        opened += f"\n   🌐 {link}"
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

"""`/admin`: what a chat's own admins may do, answered privately, each act in the audit log.

The adapter marks who is an admin (the platform's own admins); everything else is here:
policy presets, bans, daily budgets, the chat's queue with a Cancel per job, purging a person's
clips, and the log of refusals and admin actions.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import policy
from bot.admin_commands import AdminCommand
from bot.callbacks import cancel_button
from bot.deletion import remove_clips
from bot.deps import Deps
from bot.moderation import person_and_chat
from bot.ports import ChatPort
from bot.replies import Choice, Note, Refused
from bot.rows import row_id, user_row
from bot.types import ChatUser
from engine.api import ADULT, DEFAULT_PRESET, PRESET_NAMES
from storage import guardrails
from storage.models import JobState, User, utcnow

NOT_ADMIN = "Only this chat's admins can use /admin."
USAGE = (
    "Admin commands (answered privately):\n"
    f"• /admin policy {' | '.join(PRESET_NAMES)}: what prompts this chat allows\n"
    "• /admin ban @name, /admin unban @name: stop or allow someone's clips here\n"
    "• /admin limit <clips per person per day> <clips per chat per day>\n"
    "• /admin queue: what is waiting and rendering here, with a Cancel per clip\n"
    "• /admin purge @name: delete every clip that person made here\n"
    "• /admin log: recent refusals and admin actions"
)
# The most a budget can be set to; a typo of 5000000 should not read as "unlimited".
MAX_DAILY = 100_000
LOG_LINES = 15
LISTED_JOBS = 20
_DISCORD_MENTION = re.compile(r"^<@!?(\d+)>$")
_STATES = {
    JobState.AWAITING_CONSENT: "waiting for a cameo OK",
    JobState.QUEUED: "queued",
    JobState.RUNNING: "rendering",
}


async def run(deps: Deps, ports: dict[str, ChatPort], command: AdminCommand) -> Note | Refused:
    """The admin's answer (the caller delivers it privately)."""
    if not command.is_admin:
        return Refused(NOT_ADMIN)
    verb, _, rest = command.args.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    async with deps.db.transaction() as session:
        actor, chat_id = await person_and_chat(session, command.author, command.chat)
        if verb == "policy":
            return await _policy(deps, session, command, chat_id, actor, rest)
        if verb in ("ban", "unban"):
            return await _ban(session, command, chat_id, actor, rest, lift=verb == "unban")
        if verb == "limit":
            return await _limit(deps, session, chat_id, actor, rest)
        if verb == "queue":
            return await _queue(session, chat_id, actor)
        if verb == "log":
            return await _log(session, chat_id)
        if verb != "purge":
            rules = policy.rules_of(await guardrails.policy_of(session, chat_id), _defaults(deps))
            return Note(f"{policy.describe(rules)}\n\n{USAGE}")
        target = await _target(session, command, rest)
        if isinstance(target, Refused):
            return target
        clip_ids = await guardrails.clips_by(session, chat_id=chat_id, author_id=row_id(target))
    removed = await remove_clips(deps, clip_ids, ports)
    async with deps.db.transaction() as session:
        detail = f"{removed} clips of {target.handle}"
        await guardrails.audit(
            session, chat_id=chat_id, actor_id=actor, action="purge", detail=detail
        )
    return Note(f"🧹 Deleted {removed} clip{'s' if removed != 1 else ''} by {target.handle}.")


def _defaults(deps: Deps) -> policy.Budget:
    config = deps.config
    return policy.Budget(
        per_person=config.daily_clips_per_person, per_chat=config.daily_clips_per_chat
    )


async def _policy(
    deps: Deps, session: AsyncSession, command: AdminCommand, chat_id: int, actor: int, rest: str
) -> Note | Refused:
    name, _, confirm = rest.partition(" ")
    preset = policy.preset_named(name)
    if preset is None:
        rules = policy.rules_of(await guardrails.policy_of(session, chat_id), _defaults(deps))
        return Note(f"{policy.describe(rules)}\nChoose one of: {', '.join(PRESET_NAMES)}.")
    if preset == ADULT:
        why_not = policy.adult_refusal(
            adult_place=command.adult_place, confirmed=confirm.strip().lower() == "confirm"
        )
        if why_not is not None:
            return Note(why_not)
    await guardrails.save_policy(session, chat_id, default_preset=preset, by=actor, preset=preset)
    await guardrails.audit(session, chat_id=chat_id, actor_id=actor, action="policy", detail=preset)
    return Note(f"✅ This chat's policy is now {preset}.")


async def _ban(
    session: AsyncSession,
    command: AdminCommand,
    chat_id: int,
    actor: int,
    rest: str,
    *,
    lift: bool,
) -> Note | Refused:
    target = await _target(session, command, rest)
    if isinstance(target, Refused):
        return target
    if row_id(target) == actor and not lift:
        return Refused("You can't ban yourself.")
    who = target.handle
    if lift:
        changed = await guardrails.unban(session, chat_id, row_id(target))
        done = f"{who} may make clips here again." if changed else f"{who} wasn't banned here."
    else:
        changed = await guardrails.ban(session, chat_id, row_id(target), by=actor)
        done = f"{who} can no longer make clips here." if changed else f"{who} is already banned."
    if not changed:
        return Note(done)
    action = "unban" if lift else "ban"
    await guardrails.audit(
        session, chat_id=chat_id, actor_id=actor, action=action, detail=target.handle
    )
    return Note(f"✅ {done}")


async def _limit(
    deps: Deps, session: AsyncSession, chat_id: int, actor: int, rest: str
) -> Note | Refused:
    parts = rest.split()
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        return Refused(
            "Usage: /admin limit <clips per person per day> <clips per chat per day>, "
            "e.g. /admin limit 10 100"
        )
    person, chat = int(parts[0]), int(parts[1])
    if not (1 <= person <= MAX_DAILY and 1 <= chat <= MAX_DAILY):
        return Refused(f"Each limit must be between 1 and {MAX_DAILY:,}.")
    await guardrails.save_policy(
        session, chat_id, default_preset=DEFAULT_PRESET, by=actor, limits=(person, chat)
    )
    detail = f"{person} per person, {chat} per chat"
    await guardrails.audit(session, chat_id=chat_id, actor_id=actor, action="limit", detail=detail)
    return Note(f"✅ Daily budgets: {detail} (reset at midnight UTC).")


async def _queue(session: AsyncSession, chat_id: int, actor: int) -> Note:
    jobs = await guardrails.waiting_and_running(session, chat_id)
    await guardrails.audit(session, chat_id=chat_id, actor_id=actor, action="queue")
    if not jobs:
        return Note("Nothing is waiting or rendering in this chat.")
    lines, choices = [], []
    for number, (job, author) in enumerate(jobs[:LISTED_JOBS], start=1):
        prompt = job.prompt if len(job.prompt) <= 60 else job.prompt[:59] + "…"
        lines.append(f"{number}. {author.handle}: “{prompt}” ({_STATES.get(job.state, job.state)})")
        button = cancel_button(job.id)
        if button is not None:
            choices.append(Choice(f"✖️ Cancel {number}", button))
    more = f"\n…and {len(jobs) - LISTED_JOBS} more." if len(jobs) > LISTED_JOBS else ""
    return Note("\n".join(lines) + more, choices=tuple(choices))


async def _log(session: AsyncSession, chat_id: int) -> Note:
    week = await guardrails.refusal_counts(session, chat_id, utcnow() - timedelta(days=7))
    entries = await guardrails.recent(session, chat_id, LOG_LINES)
    counted = ", ".join(f"{category}: {n}" for category, n in sorted(week.items())) or "none"
    lines = [f"Refusals in the last 7 days: {counted}"]
    for logged in entries:
        entry = logged.entry
        when = entry.created_at.strftime("%Y-%m-%d %H:%M UTC")
        what = entry.action + (f" ({entry.category})" if entry.category else "")
        detail = f": {entry.detail}" if entry.detail else ""
        lines.append(f"{when} · {logged.actor} · {what}{detail}")
    return Note("\n".join(lines))


async def _target(session: AsyncSession, command: AdminCommand, rest: str) -> User | Refused:
    """The person an admin named: a platform-resolved mention, a Discord <@id>, or @name."""
    name = rest.split()[0] if rest.split() else ""
    if not name and not command.mentions:
        return Refused("Name someone: e.g. /admin ban @name")
    mentioned = _mentioned(command, name)
    if mentioned is not None:
        return await user_row(session, mentioned)
    found = await guardrails.find_user(session, command.chat.platform, name)
    if found is None:
        return Refused(f"I don't know {name} yet: I learn names when people use me.")
    return found


def _mentioned(command: AdminCommand, name: str) -> ChatUser | None:
    match = _DISCORD_MENTION.match(name)
    for user in command.mentions:
        if match and user.user_id == match[1]:
            return user
        if user.username and user.username.lower() == name.lstrip("@").lower():
            return user
    if command.mentions and not name:
        return command.mentions[0]
    return None

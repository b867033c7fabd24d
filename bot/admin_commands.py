"""The admin's commands, in platform-neutral terms (see bot.admin for what they do)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import ChatRef, ChatUser, MessageRef


@dataclass(frozen=True)
class AdminCommand:
    """`/admin <what>`: a chat admin's controls (policy, ban, unban, limit, queue, purge, log).

    Admin means the platform's own, and the adapter asks the platform: Telegram's chat creator
    or administrators, Discord members with Manage Server, the local chat's first person in the
    room (or CLIPCREW_LOCAL_ADMIN). The core refuses anyone the adapter did not mark."""

    args: str
    author: ChatUser
    chat: ChatRef
    is_admin: bool = False
    # True/False where the platform marks places adult (Discord's age-restricted channels);
    # None where it has no such mark (an admin's confirmed opt-in is the mark there).
    adult_place: bool | None = None
    # The adapter's answer to this command is already private (a Discord ephemeral response);
    # otherwise the core answers by direct message.
    answered_privately: bool = False
    # People the platform resolved in the arguments (a Telegram text mention, a Discord <@id>).
    mentions: tuple[ChatUser, ...] = ()
    message: MessageRef | None = None


@dataclass(frozen=True)
class CancelJob:
    """A press on Cancel, on a clip's status message or under `/admin queue`. `author` is
    whoever pressed; the core checks that they asked for the clip or are an admin of the job's
    chat (marked here, or they listed its queue as one, lately)."""

    job_id: str
    author: ChatUser
    chat: ChatRef
    message: MessageRef | None = None
    # The platform says the presser is an admin of `chat` (a status message's Cancel, pressed
    # in the job's own chat); the core also lets the requester cancel (bot.cancel).
    is_admin: bool = False

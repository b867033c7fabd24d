"""Telling a person something: the one way the core speaks in a chat.

A reply goes on the status message that already speaks for the command, where the platform can
edit messages; elsewhere (or with no status message) it is a new message in reply to the
command. Every answer goes through `tell`, except the messages whose reference the core keeps
(a new status message, a direct message) and the progress bar's edits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.ports import ChatPort, Notice
from bot.replies import Note, Refused
from bot.types import ChatRef, MessageRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Where:
    """Where to answer: the chat, the command's message, and the status message if any."""

    chat: ChatRef
    reply_to: MessageRef | None = None
    status: MessageRef | None = None


async def tell(port: ChatPort, where: Where, reply: Notice, *, quietly: bool = False) -> None:
    """Show `reply` (see the module's docstring). `quietly`: a failure is logged, not raised,
    for replies that are a courtesy with nothing left to retry."""
    try:
        if where.status is not None and port.capabilities.edits:
            await port.edit(where.status, reply)
        else:
            await port.post(where.chat, reply, reply_to=where.reply_to)
    except Exception:
        if not quietly:
            raise
        log.warning("could not post a reply", extra={"platform": where.chat.platform})


async def after_checking(
    port: ChatPort,
    where: Where,
    checking: Note,
    answer: Callable[[], Awaitable[Note | Refused]],
    *,
    failure: str,
) -> Note | Refused:
    """Say a check is under way, then show its answer in place of that (a selfie, an uploaded
    video). A check that crashed is logged, and the person reads `failure`."""
    status = await port.post(where.chat, checking, reply_to=where.reply_to)
    try:
        reply = await answer()
    except Exception:
        log.exception("a check crashed", extra={"platform": where.chat.platform})
        reply = Refused(failure)
    await tell(port, Where(where.chat, where.reply_to, status), reply)
    return reply

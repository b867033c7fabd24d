"""`/feed`: a chat's clips, ranked, a page at a time, with a link to the chat's feed page.

The ranking is one pure function, `rank`; everything else here reads rows (storage.feed), picks
a page and writes the lines a chat shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from bot.callbacks import Button
from bot.deps import Deps
from bot.feed_commands import FeedPage, ShowFeed
from bot.ports import ChatPort
from bot.replies import Choice, Note, Refused
from bot.types import ChatRef, ChatUser, MessageRef
from storage import feed as feed_rows
from storage.feed import FeedRow
from storage.models import utcnow

Sort = Literal["hot", "new", "top"]
SORTS: tuple[Sort, ...] = ("hot", "new", "top")
# "hot" looks at this week's clips; "new", "top" and a person's clips at all of them.
HOT_WINDOW = timedelta(days=7)
# A remix is worth this many reactions: making something is the point of the feed.
REMIX_WEIGHT = 2.0
# Hours added to a clip's age (a brand-new clip is not infinitely hot) and how fast heat decays.
AGE_OFFSET_H = 2.0
GRAVITY = 1.5
PAGE_SIZE = 8
PROMPT_CHARS = 60
HEADINGS = {"hot": "🔥 Hot this week", "new": "🆕 Newest clips", "top": "🏆 Top clips"}
REACTIONS_OFF = (
    "💡 Reactions don't reach me in this chat: Telegram sends them only to bots that are chat "
    "admins. Make me an admin to count them; until then, press ❤️ under a clip."
)
USAGE = "Try /feed, /feed new, /feed top, /feed @name or /feed #12 (a clip's remix chain)."


def rank(rows: Sequence[FeedRow], sort: Sort, now: datetime) -> list[FeedRow]:
    """The order a feed shows its clips in.

    - "new": newest first.
    - "top": by points, reactions + REMIX_WEIGHT * remixes; ties newest first.
    - "hot": clips of the last HOT_WINDOW only, by
      (1 + points) / (age in hours + AGE_OFFSET_H) ** GRAVITY, the decay of Hacker News'
      ranking: a clip needs more reactions and remixes to stay up the older it gets. Ties
      newest first.

    Every reaction counts once, whatever its emoji; deleted clips never reach here.
    """

    def points(row: FeedRow) -> float:
        return row.reactions + REMIX_WEIGHT * row.remixes

    def heat(row: FeedRow) -> float:
        age_h = max(0.0, (now - row.created_at).total_seconds() / 3600)
        return (1 + points(row)) / math.pow(age_h + AGE_OFFSET_H, GRAVITY)

    newest = sorted(rows, key=lambda row: (row.created_at, row.clip_id), reverse=True)
    if sort == "new":
        return newest
    if sort == "top":
        return sorted(newest, key=points, reverse=True)  # stable: ties stay newest first
    recent = [row for row in newest if now - row.created_at <= HOT_WINDOW]
    return sorted(recent, key=heat, reverse=True)


@dataclass(frozen=True)
class Cursor:
    """Which list and page a paging button shows; packed into the button's signed id."""

    sort: Sort = "hot"
    page: int = 0
    # A person's clips (their users.id), newest first, instead of a sorted list.
    person_id: int | None = None

    def pack(self) -> int:
        return ((self.person_id or 0) * 1024 + self.page) * 4 + SORTS.index(self.sort)

    @classmethod
    def unpack(cls, packed: int) -> Cursor:
        sort, rest = SORTS[min(packed % 4, 2)], packed // 4
        person, page = divmod(rest, 1024)
        return cls(sort=sort, page=page, person_id=person or None)


async def show(deps: Deps, port: ChatPort, command: ShowFeed) -> Note | Refused:
    """The answer to `/feed [new|top|@person]` (`/feed #12` is `bot.feed_chain`)."""
    words = command.args.split()
    arg = words[0].lower() if words else "hot"
    if arg.startswith("@"):
        # The whole rest: a display name may have spaces in it.
        name = command.args.strip()
        note = await _by_person(deps, port, command.chat, command.author, name)
    elif arg in SORTS:
        note = await page(deps, port, command.chat, command.author, Cursor(sort=arg))
    else:
        return Refused(f"I don't know /feed {arg}. {USAGE}")
    return with_hint(note, command.reactions_off)


def with_hint(note: Note | Refused, reactions_off: bool) -> Note | Refused:
    """Where reactions cannot arrive, the answer says so and what to do."""
    if reactions_off and isinstance(note, Note):
        return replace(note, text=f"{note.text}\n\n{REACTIONS_OFF}")
    return note


async def turn(deps: Deps, port: ChatPort, command: FeedPage) -> Note:
    """A paging button: the same list, another page (shown in place of the pressed one)."""
    return await page(deps, port, command.chat, command.author, Cursor.unpack(command.cursor))


async def page(deps: Deps, port: ChatPort, chat: ChatRef, viewer: ChatUser, cursor: Cursor) -> Note:
    now = utcnow()
    since = now - HOT_WINDOW if cursor.sort == "hot" and cursor.person_id is None else None
    async with deps.db.session() as session:
        rows = await feed_rows.chat_clips(session, chat.platform, chat.chat_id, since=since)
    if cursor.person_id is not None:
        rows = [row for row in rows if row.author_id == cursor.person_id]
        heading = f"🎞️ Clips by {rows[0].author}" if rows else "🎞️ Their clips"
        ordered = rank(rows, "new", now)
    else:
        heading = HEADINGS[cursor.sort]
        ordered = rank(rows, cursor.sort, now)
    pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
    number = min(cursor.page, pages - 1)
    shown = ordered[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
    if not shown:
        older = " this week (/feed new shows older ones)" if since is not None else " yet"
        body = f"No clips here{older}. Make one: /{deps.config.command} <what should happen>"
    else:
        body = "\n".join(line(row, port, chat) for row in shown)
    of = f" (page {number + 1} of {pages})" if pages > 1 else ""
    return Note(
        f"{heading}{of}\n{body}\n\n{page_link(deps, chat, viewer)}",
        choices=_paging(replace(cursor, page=number), pages),
    )


async def _by_person(
    deps: Deps, port: ChatPort, chat: ChatRef, viewer: ChatUser, name: str
) -> Note | Refused:
    async with deps.db.session() as session:
        rows = await feed_rows.chat_clips(session, chat.platform, chat.chat_id)
    # @username, or the display name of someone without one ("@Carol" for Carol).
    wanted = name.lower().lstrip("@")
    match = next((row for row in rows if row.author.lower().lstrip("@") == wanted), None)
    if match is None:
        return Refused(f"No clips by {name} in this chat. {USAGE}")
    return await page(deps, port, chat, viewer, Cursor(sort="new", person_id=match.author_id))


def line(row: FeedRow, port: ChatPort, chat: ChatRef, *, prefix: str = "") -> str:
    """One clip: number, prompt, author, cameos, ❤️ and remix counts, and where to see it."""
    prompt = row.prompt if len(row.prompt) <= PROMPT_CHARS else row.prompt[:PROMPT_CHARS] + "…"
    cameos = f" with {', '.join(row.cameos)}" if row.cameos else ""
    lineage = f" · remix of #{row.parent_id}" if row.parent_id else ""
    text = (
        f"{prefix}#{row.clip_id} “{prompt}” by {row.author}{cameos} · ❤️ {row.reactions}"
        f" · 🔁 {row.remixes}{lineage}"
    )
    link = port.link(MessageRef(chat, row.message_id)) if row.message_id else None
    return f"{text}\n{prefix}   {link}" if link else text


def page_link(deps: Deps, chat: ChatRef, viewer: ChatUser) -> str:
    days = max(1, deps.feed_links.ttl_s // 86400)
    return f"🌐 The feed page (your link, {days} days): {deps.feed_links.feed_url(chat, viewer)}"


def _paging(cursor: Cursor, pages: int) -> tuple[Choice, ...]:
    choices = []
    if cursor.page > 0:
        back = replace(cursor, page=cursor.page - 1)
        choices.append(Choice("◀ Previous", Button("feed", back.pack())))
    if cursor.page + 1 < pages:
        ahead = replace(cursor, page=cursor.page + 1)
        choices.append(Choice("Next ▶", Button("feed", ahead.pack())))
    return tuple(choices)

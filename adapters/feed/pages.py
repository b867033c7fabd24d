"""What the feed pages show, read fresh on every request (so a deleted clip is gone at once):
one chat's clips in a sort order, one clip with its remix chain, a clip's file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.feed import SORTS, Sort, rank
from bot.feed_chain import Branch, remix_tree
from bot.feed_links import FeedAccess
from storage import clips
from storage import feed as feed_rows
from storage.db import Database
from storage.feed import FeedRow
from storage.models import utcnow

SORT_NAMES: dict[Sort, str] = {"hot": "Hot", "new": "New", "top": "Top"}
# Clips per page: a phone scrolls through this many before it asks for more.
PER_PAGE = 30


@dataclass(frozen=True)
class FeedView:
    title: str
    sort: Sort
    rows: list[FeedRow]
    # Pages are numbered from 1; `more` says whether another follows.
    page: int = 1
    more: bool = False


@dataclass(frozen=True)
class ClipView:
    title: str
    row: FeedRow
    parent: FeedRow | None
    tree: Branch


def sort_of(asked: str | None) -> Sort:
    """The sort a page was asked for; anything unknown is the default, "hot"."""
    for sort in SORTS:
        if asked == sort:
            return sort
    return "hot"


def page_of(asked: str | None) -> int:
    return int(asked) if asked and asked.isdigit() and 0 < int(asked) < 10_000 else 1


async def feed_view(db: Database, access: FeedAccess, sort: Sort, page: int = 1) -> FeedView:
    async with db.session() as session:
        chat = await feed_rows.chat_row(session, access.platform, access.chat_id)
        rows = await feed_rows.chat_clips(session, access.platform, access.chat_id)
    ranked = rank(rows, sort, utcnow())
    shown = ranked[(page - 1) * PER_PAGE : page * PER_PAGE]
    more = len(ranked) > page * PER_PAGE
    return FeedView(title=_title(chat), sort=sort, rows=shown, page=page, more=more)


async def clip_view(db: Database, access: FeedAccess, clip_id: int) -> ClipView | None:
    """The clip with its chain, if it is this chat's and not deleted; None otherwise."""
    async with db.session() as session:
        chat = await feed_rows.chat_row(session, access.platform, access.chat_id)
        rows = await feed_rows.chat_clips(session, access.platform, access.chat_id)
    chain = remix_tree(rows, clip_id)
    if chain is None:
        return None
    return ClipView(title=_title(chat), row=chain.tree.row, parent=chain.parent, tree=chain.tree)


async def clip_file(db: Database, access: FeedAccess, clip_id: int) -> str | None:
    """The blob key of the clip's file, if the clip is this chat's and not deleted."""
    async with db.session() as session:
        clip = await clips.clip_in_chat(session, clip_id, access.platform, access.chat_id)
    return clip.blob_key if clip is not None else None


def _title(chat: object) -> str:
    title = getattr(chat, "title", "") or ""
    platform: Literal[""] | str = getattr(chat, "platform", "") or ""
    return title or (f"{platform.capitalize()} chat" if platform else "Chat")

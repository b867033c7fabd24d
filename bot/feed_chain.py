"""`/feed #12`: a clip's remix chain, its parent above it and its remixes as a tree below.

The feed page draws the same tree from `remix_tree`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deps import Deps
from bot.feed import USAGE, line, page_link
from bot.feed_commands import ShowFeed
from bot.ports import ChatPort
from bot.replies import Note, Refused
from bot.types import ChatRef
from storage import feed as feed_rows
from storage.feed import FeedRow

# A chain longer than this is cut short, so one answer fits in a chat message.
MAX_TREE_LINES = 25


@dataclass(frozen=True)
class Branch:
    """A clip and its remixes, each a branch of its own."""

    row: FeedRow
    remixes: tuple[Branch, ...] = ()


@dataclass(frozen=True)
class Chain:
    parent: FeedRow | None
    tree: Branch


def remix_tree(rows: list[FeedRow], clip_id: int) -> Chain | None:
    """The clip's chain among a chat's rows (deleted clips are not among them, so a deleted
    remix takes its own remixes out of view too); None when the clip is not there."""
    by_id = {row.clip_id: row for row in rows}
    if clip_id not in by_id:
        return None
    children: dict[int, list[FeedRow]] = {}
    for row in sorted(rows, key=lambda row: row.clip_id):
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)

    def grow(row: FeedRow, seen: frozenset[int]) -> Branch:
        kids = [kid for kid in children.get(row.clip_id, []) if kid.clip_id not in seen]
        return Branch(row, tuple(grow(kid, seen | {kid.clip_id}) for kid in kids))

    clip = by_id[clip_id]
    parent = by_id.get(clip.parent_id) if clip.parent_id is not None else None
    return Chain(parent=parent, tree=grow(clip, frozenset({clip_id})))


def flatten(branch: Branch, depth: int = 0) -> list[tuple[int, FeedRow]]:
    """(depth, row) in the order a tree is read, depth 0 for the clip itself."""
    found = [(depth, branch.row)]
    for remix in branch.remixes:
        found.extend(flatten(remix, depth + 1))
    return found


async def chain(deps: Deps, port: ChatPort, command: ShowFeed, number: str) -> Note | Refused:
    if not number.isdigit():
        return Refused(f"Say which clip: /feed #12. {USAGE}")
    chat: ChatRef = command.chat
    async with deps.db.session() as session:
        rows = await feed_rows.chat_clips(session, chat.platform, chat.chat_id)
    found = remix_tree(rows, int(number))
    if found is None:
        return Refused(f"There is no clip #{number} in this chat.")
    lines = []
    if found.parent is not None:
        lines.append(line(found.parent, port, chat, prefix="↑ "))
    tree = flatten(found.tree)
    for depth, row in tree[:MAX_TREE_LINES]:
        lines.append(line(row, port, chat, prefix="   " * (depth - 1) + "└ " if depth else ""))
    if len(tree) > MAX_TREE_LINES:
        lines.append(f"…and {len(tree) - MAX_TREE_LINES} more remixes on the feed page.")
    remixes = len(tree) - 1
    heading = f"🌳 Clip #{number} and its {remixes} remix{'es' if remixes != 1 else ''}"
    remix = f"Remix it: /remix {number} <what should change>"
    return Note(
        f"{heading}\n" + "\n".join(lines) + f"\n\n{remix}\n{page_link(deps, chat, command.author)}"
    )

"""One entry for the feed's commands, so the core needs one small hook (see `Core.handle`)."""

from __future__ import annotations

from bot import feed, reactions
from bot.commands import Remix
from bot.deps import Deps
from bot.feed_chain import chain
from bot.feed_commands import (
    FeedPage,
    React,
    ReactionCounts,
    RemixByNumber,
    ShowFeed,
    ToggleLike,
)
from bot.ports import ChatPort
from bot.replies import Note, Refused
from bot.tell import Where, tell


async def answer(
    deps: Deps, port: ChatPort, command: ShowFeed | FeedPage | React | ReactionCounts | ToggleLike
) -> Note | Refused:
    """`/feed` is posted in the chat (and returned). The rest is returned for the adapter to
    show to the one who pressed or reacted: a page in place of the pressed one, a ❤️ count."""
    if isinstance(command, ShowFeed):
        note = await _show(deps, port, command)
        await tell(port, Where(command.chat, command.message), note)
        return note
    if isinstance(command, FeedPage):
        return await feed.turn(deps, port, command)
    if isinstance(command, React):
        return await reactions.react(deps, command)
    if isinstance(command, ReactionCounts):
        return await reactions.counts(deps, command)
    assert isinstance(command, ToggleLike)
    return await reactions.toggle_like(deps, command)


async def remix(deps: Deps, port: ChatPort, command: RemixByNumber) -> Remix | Refused:
    """`/remix N <change>` as the Remix it stands for; a refusal is posted in the chat."""
    found = await reactions.remix_by_number(deps, command)
    if isinstance(found, Refused):
        await tell(port, Where(command.chat, command.message), found)
    return found


async def _show(deps: Deps, port: ChatPort, command: ShowFeed) -> Note | Refused:
    words = command.args.split()
    if words and (words[0].startswith("#") or words[0].isdigit()):
        note = await chain(deps, port, command, words[0].lstrip("#"))
        return feed.with_hint(note, command.reactions_off)
    return await feed.show(deps, port, command)

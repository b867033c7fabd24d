"""Signed links to a chat's feed page (bot.feed_links): a link made for a chat and a person
opens it until it expires; a tampered or foreign one is refused."""

from __future__ import annotations

import pytest

from bot.feed_links import BadLink, FeedLinks
from tests.fakes import CHAT, OTHER_CHAT, person


def test_feed_links_refuse_tampering_and_expiry() -> None:
    links = FeedLinks(secret=b"k" * 32, ttl_s=60)
    token = links.token(CHAT, person(1), now=1000)
    access = links.verify(token, now=1030)
    assert (access.platform, access.chat_id, access.user_id) == ("test", CHAT.chat_id, "u1")
    with pytest.raises(BadLink, match="expired"):
        links.verify(token, now=1061)
    body, _, signature = token.partition(".")
    forged = FeedLinks(secret=b"x" * 32).token(OTHER_CHAT, person(1), now=1000)
    flipped = signature[:-1] + ("B" if signature[-1] == "A" else "A")
    for bad in (f"{forged.partition('.')[0]}.{signature}", f"{body}.{flipped}", "", "."):
        with pytest.raises(BadLink):
            links.verify(bad, now=1030)

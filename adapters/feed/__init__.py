"""Each chat's feed as web pages, on the bot's own listener, behind per-person signed links."""

from adapters.feed.config import FeedConfig
from adapters.feed.server import start_feed

__all__ = ["FeedConfig", "start_feed"]

"""Keeping the bot token out of the logs. Bot API URLs contain it: httpx logs every request
URL at INFO, and PTB logs its base URLs at DEBUG when a bot is built."""

from __future__ import annotations

import logging

# Loggers that see Bot API URLs. PTB's are created when its modules are imported.
_FAMILIES = ("telegram", "httpx", "httpcore")
MASK = "<telegram-token>"


class HideToken(logging.Filter):
    """Rewrites a record whose text contains the token's secret half."""

    def __init__(self, token: str) -> None:
        super().__init__()
        # The part after the colon is the secret; the bot id before it is public.
        self.secret = token.partition(":")[2] or token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg = message.replace(self.secret, MASK)
            record.args = None
        return True


def protect_token(token: str) -> None:
    """Call before the bot is built. httpx goes to WARNING (a line per request is noise
    anyway); every PTB and httpx logger gets the masking filter, so even DEBUG stays safe."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # unset (0) or chattier
            logger.setLevel(logging.WARNING)
    hide = HideToken(token)
    for name, known in list(logging.root.manager.loggerDict.items()):
        if name.split(".")[0] not in _FAMILIES or not isinstance(known, logging.Logger):
            continue  # a PlaceHolder is a dotted prefix with no logger of its own
        if not any(isinstance(f, HideToken) and f.secret == hide.secret for f in known.filters):
            known.addFilter(hide)

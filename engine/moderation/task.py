"""The `moderate_text` light task (engine.queue.MODERATE_TEXT): the bot sends a prompt and its
dialogue lines, a light worker scores them. Payload and answer are plain data, described in
engine.api; the bot applies its chat's preset to the scores.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from engine.queue import Payload
from engine.request import BadRequest

if TYPE_CHECKING:
    from engine.light import LightContext

log = logging.getLogger(__name__)

# A prompt is at most 1,000 characters and has a few dialogue lines; anything much bigger is
# not from the bot.
MAX_TEXTS = 32
MAX_CHARS = 4000


def _texts(payload: Payload) -> list[str]:
    texts = payload.get("texts")
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise BadRequest("The texts to check must be a list of strings.")
    if len(texts) > MAX_TEXTS or any(len(text) > MAX_CHARS for text in texts):
        raise BadRequest(
            f"That is too much text to check at once: at most {MAX_TEXTS} pieces of "
            f"{MAX_CHARS:,} characters."
        )
    return texts


async def moderate_text_task(ctx: LightContext, payload: Payload) -> Payload:
    """Score each text of payload["texts"] in every category (engine.api.CATEGORIES).

    Answers {"results": [{"scores": {category: score}, "rule_hits": [rule, ...]}, ...]}, one
    per text, in order. The texts themselves are never logged."""
    from engine.moderation.classifier import check_texts

    texts = _texts(payload)
    verdicts = await asyncio.to_thread(check_texts, texts)
    hits = sorted({hit for verdict in verdicts for hit in verdict.rule_hits})
    log.info("texts moderated", extra={"texts": len(texts), "rule_hits": hits})
    return {"results": [verdict.as_payload() for verdict in verdicts]}


async def warm_up(torch_threads: int | None = None) -> None:
    """Load the classifier now (seconds), so the first prompt is answered within a second.
    A light worker, a process of its own, passes torch_threads=1 (see Embedder.load)."""
    from engine.moderation.classifier import shared_classifier

    await asyncio.to_thread(shared_classifier, torch_threads)

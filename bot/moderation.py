"""The check every prompt goes through before anything is recorded or queued: is the person
banned in this chat, and does any text (the prompt, each quoted line) fall in a category the
chat's policy refuses?

The scores come from the `moderate_text` light task (engine.moderation on a light worker: the
bot process loads no model). No answer in time means no clip: a prompt is never queued
unchecked. Refusals are written to the audit log by category; the text of a refused request
in the sexual_minors category is never stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.deps import Deps
from bot.errors import BotError
from bot.policy import Budget, ChatRules, refusal_text, rules_of
from bot.rows import user_row
from bot.types import ChatRef, ChatUser
from engine.api import SEXUAL_MINORS, refused_category, scores_of
from engine.queue import MODERATE_TEXT, LightCalls, LightTaskFailed
from storage import guardrails
from storage.batching import Batcher
from storage.db import Database
from storage.people import upsert_chat

log = logging.getLogger(__name__)

# The light pool answers in about 0.15 s when it is up (bench/guardrails.py), so a person hears
# within about a second; this is only how long an overloaded or absent pool is waited for
# before the person is asked to try again (a render sharing the CPU can stall one answer).
MODERATION_TIMEOUT_S = 2.5
# A command that arrives while a batch is out waits for it, then for its own.
MAX_WAIT_S = 4.0
# engine.moderation takes at most 32 texts a call; a bigger batch goes as several calls.
MAX_TEXTS_PER_CALL = 32
# What the audit log keeps of a refused prompt (never for sexual_minors).
KEPT_CHARS = 200


class PromptRefused(BotError):
    def __init__(self, category: str) -> None:
        super().__init__(refusal_text(category))
        self.category = category


class Unchecked(BotError):
    def __init__(self) -> None:
        super().__init__("I couldn't check this prompt right now, please try again in a moment.")


class Banned(BotError):
    def __init__(self) -> None:
        super().__init__("An admin of this chat has stopped you from making clips here.")


@dataclass(frozen=True)
class Asker:
    """Who asks, where, and for what: the texts to check."""

    author: ChatUser
    chat: ChatRef
    texts: Sequence[str]
    # The clip uses cameos whose owners consent (or are asked before anything renders).
    consenting_cameos: bool = False


Scores = dict[str, float]


@dataclass(frozen=True)
class Standing:
    """What the chat allows and whether this person is banned there."""

    rules: ChatRules
    banned: bool = False


class PromptChecker:
    """The check, for many commands at once: commands that arrive while a check is out are
    checked together in the next one (storage.batching), with one read of their chats' rules
    and bans and one light call for all their texts. A burst of commands thus costs a few
    queries and classifier passes rather than some for each command."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        config = deps.config
        self.defaults = Budget(config.daily_clips_per_person, config.daily_clips_per_chat)
        self._batch: Batcher[Asker, tuple[Standing, list[Scores]]] = Batcher(self._check_many)

    async def check(self, asker: Asker) -> tuple[Standing, list[Scores]]:
        """The asker's standing and one score table per text; raises Unchecked when the light
        pool did not answer in time."""
        try:
            async with asyncio.timeout(MAX_WAIT_S):
                return await self._batch(asker)
        except Unchecked:
            raise
        except Exception as error:
            log.warning("prompt check unavailable", extra={"error": type(error).__name__})
            raise Unchecked() from error

    async def _check_many(
        self, askers: list[Asker]
    ) -> list[tuple[Standing, list[Scores]] | Exception]:
        async with self.deps.db.session() as session:  # reads only: no writer lock
            standings = await _standings(session, askers, self.defaults)
        wanted = [_texts(a) for a, s in zip(askers, standings, strict=True) if not s.banned]
        unchecked = False
        try:
            by_text = await self._score(list(dict.fromkeys(t for texts in wanted for t in texts)))
        except Unchecked:
            by_text, unchecked = {}, True
        results: list[tuple[Standing, list[Scores]] | Exception] = []
        for asker, standing in zip(askers, standings, strict=True):
            if standing.banned:
                results.append((standing, []))
            elif unchecked:
                results.append(Unchecked())
            else:
                results.append((standing, [by_text[text] for text in _texts(asker)]))
        return results

    async def _score(self, texts: list[str]) -> dict[str, Scores]:
        if not texts:
            return {}
        light = self.deps.light
        if light is None:  # no light pool wired in: nothing can be checked, so none queued
            raise Unchecked()
        chunks = [
            texts[i : i + MAX_TEXTS_PER_CALL] for i in range(0, len(texts), MAX_TEXTS_PER_CALL)
        ]
        try:
            answers = await asyncio.gather(*(_call(light, chunk) for chunk in chunks))
        except Exception as error:
            # A timeout, no light worker, a crash, or an answer we can't read: all unchecked.
            log.warning("prompt check unavailable", extra={"error": type(error).__name__})
            raise Unchecked() from error
        return {text: scores for answer in answers for text, scores in answer.items()}


async def _call(light: LightCalls, texts: list[str]) -> dict[str, Scores]:
    answer = await light.call(MODERATE_TEXT, {"texts": texts}, timeout_s=MODERATION_TIMEOUT_S)
    per_text = scores_of(answer)
    if len(per_text) != len(texts):
        raise LightTaskFailed(f"the check answered {len(per_text)} of {len(texts)} texts")
    return dict(zip(texts, per_text, strict=True))


def _texts(asker: Asker) -> list[str]:
    return [text for text in dict.fromkeys(asker.texts) if text.strip()]


async def _standings(
    session: AsyncSession, askers: list[Asker], defaults: Budget
) -> list[Standing]:
    people = {(a.author.platform, a.author.user_id) for a in askers}
    places = {(a.chat.platform, a.chat.chat_id) for a in askers}
    users = await guardrails.user_ids_of(session, list(people))
    chats = await guardrails.chat_ids_of(session, list(places))
    policies = await guardrails.policies_of(session, list(chats.values()))
    pairs = [
        (chats[(a.chat.platform, a.chat.chat_id)], users[(a.author.platform, a.author.user_id)])
        for a in askers
        if (a.chat.platform, a.chat.chat_id) in chats
        and (a.author.platform, a.author.user_id) in users
    ]
    banned = await guardrails.banned_pairs(session, pairs)
    standings = []
    for asker in askers:
        chat_id = chats.get((asker.chat.platform, asker.chat.chat_id))
        user_id = users.get((asker.author.platform, asker.author.user_id))
        rules = rules_of(policies.get(chat_id) if chat_id is not None else None, defaults)
        standings.append(Standing(rules, banned=(chat_id, user_id) in banned))
    return standings


async def screen(deps: Deps, checker: PromptChecker, asker: Asker) -> ChatRules:
    """The chat's rules when the request may go on; raises Banned, Unchecked or PromptRefused
    (each a BotError whose text the person reads) when it may not."""
    standing, per_text = await checker.check(asker)
    if standing.banned:
        await _log(deps.db, asker, "banned", "")
        raise Banned()
    category = _verdict(per_text, asker, standing.rules)
    if category is not None:
        kept = "" if category == SEXUAL_MINORS else " / ".join(asker.texts)[:KEPT_CHARS]
        await _log(deps.db, asker, category, kept)
        log.info("prompt refused", extra={"category": category, "platform": asker.chat.platform})
        metrics.MODERATION_REFUSALS.labels(category=category).inc()
        raise PromptRefused(category)
    return standing.rules


def _verdict(per_text: list[Scores], asker: Asker, rules: ChatRules) -> str | None:
    """The category to refuse for, or None."""
    thresholds = rules.thresholds_for(consenting_cameos=asker.consenting_cameos)
    refused = [refused_category(scores, thresholds) for scores in per_text]
    found = [category for category in refused if category is not None]
    if SEXUAL_MINORS in found:
        return SEXUAL_MINORS
    return found[0] if found else None


async def person_and_chat(
    session: AsyncSession, author: ChatUser, chat: ChatRef
) -> tuple[int, int]:
    """The ids of whoever asked and of the chat they asked in, recorded if new."""
    user = await user_row(session, author)
    row = await upsert_chat(
        session, platform=chat.platform, platform_chat_id=chat.chat_id, title=chat.title
    )
    assert user.id is not None and row.id is not None
    return user.id, row.id


async def _log(db: Database, asker: Asker, category: str, detail: str) -> None:
    async with db.transaction() as session:
        user_id, chat_id = await person_and_chat(session, asker.author, asker.chat)
        await guardrails.audit(
            session,
            chat_id=chat_id,
            actor_id=user_id,
            action="refused",
            category=category,
            detail=detail,
        )

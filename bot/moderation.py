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

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deps import Deps
from bot.errors import BotError
from bot.policy import Budget, ChatRules, refusal_text, rules_of
from bot.types import ChatRef, ChatUser
from engine.api import SEXUAL_MINORS, refused_category, scores_of
from engine.queue import MODERATE_TEXT, LightCalls, LightTaskFailed
from storage import guardrails
from storage.batching import Batcher
from storage.db import Database
from storage.models import Chat, User
from storage.people import upsert_chat, upsert_user

log = logging.getLogger(__name__)

# "Within about a second": the light pool answers in milliseconds when it is up; past this the
# person is asked to try again rather than left waiting.
MODERATION_TIMEOUT_S = 1.5
# A command that arrives while a batch is out waits for it, then for its own.
MAX_WAIT_S = 2 * MODERATION_TIMEOUT_S
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


class PromptChecker:
    """Scores texts on the light pool. Commands that arrive while a call is out are checked
    together in the next one (storage.batching), so a burst of commands costs a few batched
    classifier passes rather than one pass each."""

    def __init__(self, light: LightCalls | None) -> None:
        self.light = light
        self._batch: Batcher[tuple[str, ...], list[Scores]] = Batcher(self._score_many)

    async def scores(self, texts: tuple[str, ...]) -> list[Scores]:
        """One score table per text, in order; raises Unchecked when no answer came in time."""
        if self.light is None:  # no light pool wired in: nothing can be checked or queued
            raise Unchecked()
        try:
            async with asyncio.timeout(MAX_WAIT_S):
                return await self._batch(texts)
        except Exception as error:
            # A timeout, no light worker, a crash, or an answer we can't read: all unchecked.
            log.warning("prompt check unavailable", extra={"error": type(error).__name__})
            raise Unchecked() from error

    async def _score_many(self, asked: list[tuple[str, ...]]) -> list[list[Scores] | Exception]:
        unique = list(dict.fromkeys(text for texts in asked for text in texts))
        chunks = [
            unique[i : i + MAX_TEXTS_PER_CALL] for i in range(0, len(unique), MAX_TEXTS_PER_CALL)
        ]
        answers = await asyncio.gather(*(self._call(chunk) for chunk in chunks))
        by_text = {text: scores for answer in answers for text, scores in answer.items()}
        return [[by_text[text] for text in texts] for texts in asked]

    async def _call(self, texts: list[str]) -> dict[str, Scores]:
        assert self.light is not None
        answer = await self.light.call(
            MODERATE_TEXT, {"texts": texts}, timeout_s=MODERATION_TIMEOUT_S
        )
        per_text = scores_of(answer)
        if len(per_text) != len(texts):
            raise LightTaskFailed(f"the check answered {len(per_text)} of {len(texts)} texts")
        return dict(zip(texts, per_text, strict=True))


async def screen(deps: Deps, checker: PromptChecker, asker: Asker) -> ChatRules:
    """The chat's rules when the request may go on; raises Banned, Unchecked or PromptRefused
    (each a BotError whose text the person reads) when it may not."""
    db, config = deps.db, deps.config
    defaults = Budget(config.daily_clips_per_person, config.daily_clips_per_chat)
    # Reads only: a burst of commands must not queue up for SQLite's one writer here.
    async with db.session() as session:
        user_id, chat_id = await _known_ids(session, asker)
        policy, banned = None, False
        if chat_id is not None:
            policy = await guardrails.policy_of(session, chat_id)
            if user_id is not None:
                banned = await guardrails.is_banned(session, chat_id, user_id)
    if banned:
        await _log(db, asker, "banned", "")
        raise Banned()
    rules = rules_of(policy, defaults)
    category = await _verdict(checker, asker, rules)
    if category is not None:
        kept = "" if category == SEXUAL_MINORS else " / ".join(asker.texts)[:KEPT_CHARS]
        await _log(db, asker, category, kept)
        log.info("prompt refused", extra={"category": category, "platform": asker.chat.platform})
        raise PromptRefused(category)
    return rules


async def _verdict(checker: PromptChecker, asker: Asker, rules: ChatRules) -> str | None:
    """The category to refuse for, or None; raises Unchecked when no light worker answered."""
    texts = tuple(text for text in dict.fromkeys(asker.texts) if text.strip())
    if not texts:
        return None
    per_text = await checker.scores(texts)
    thresholds = rules.thresholds_for(consenting_cameos=asker.consenting_cameos)
    refused = [refused_category(scores, thresholds) for scores in per_text]
    found = [category for category in refused if category is not None]
    if SEXUAL_MINORS in found:
        return SEXUAL_MINORS
    return found[0] if found else None


async def _known_ids(session: AsyncSession, asker: Asker) -> tuple[int | None, int | None]:
    """The person's and the chat's row ids, where they exist yet (read only)."""
    author, chat = asker.author, asker.chat
    user = await session.exec(
        select(User.id).where(
            User.platform == author.platform, User.platform_user_id == author.user_id
        )
    )
    row = await session.exec(
        select(Chat.id).where(Chat.platform == chat.platform, Chat.platform_chat_id == chat.chat_id)
    )
    return user.first(), row.first()


async def _rows(session: AsyncSession, asker: Asker) -> tuple[int, int]:
    author, chat = asker.author, asker.chat
    user = await upsert_user(
        session,
        platform=author.platform,
        platform_user_id=author.user_id,
        display_name=author.display_name,
        username=author.username,
    )
    row = await upsert_chat(
        session, platform=chat.platform, platform_chat_id=chat.chat_id, title=chat.title
    )
    assert user.id is not None and row.id is not None
    return user.id, row.id


async def _log(db: Database, asker: Asker, category: str, detail: str) -> None:
    async with db.transaction() as session:
        user_id, chat_id = await _rows(session, asker)
        await guardrails.audit(
            session,
            chat_id=chat_id,
            actor_id=user_id,
            action="refused",
            category=category,
            detail=detail,
        )

"""The prompt and dialogue check: `check_texts(texts)` scores each text in every category.

Semantic scores come from the MiniLM sentence embedding and the trained head (engine.moderation
.head); precise rules (engine.moderation.rules) can only raise them. The model loads once per
process, on first use, behind a lock; after that one prompt takes a few tens of milliseconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from engine.api import CATEGORIES, SEXUAL
from engine.moderation.embed import Embedder, shared_embedder
from engine.moderation.head import Head
from engine.moderation.rules import apply_rules


@dataclass(frozen=True)
class TextVerdict:
    """One text's scores: category → score in [0, 1], and the precise rules that fired."""

    text: str
    scores: dict[str, float] = field(hash=False)
    rule_hits: tuple[str, ...] = ()

    def as_payload(self) -> dict[str, object]:
        """Plain data for the light task's answer (the text itself is not sent back)."""
        return {"scores": dict(self.scores), "rule_hits": list(self.rule_hits)}


@dataclass(frozen=True, eq=False)
class Classifier:
    embedder: Embedder
    head: Head

    @classmethod
    def load(cls, threads: int | None = None) -> Classifier:
        return cls(shared_embedder(threads), Head.load())

    def check_texts(self, texts: list[str]) -> list[TextVerdict]:
        if not texts:
            return []
        semantic = self.head.scores(self.embedder.embed(texts))
        verdicts = []
        for text, row in zip(texts, semantic, strict=True):
            scores = dict(zip(CATEGORIES, row.tolist(), strict=True))
            rules = apply_rules(text, scores[SEXUAL])
            for category, score in rules.scores.items():
                scores[category] = max(scores[category], score)
            verdicts.append(TextVerdict(text, scores, tuple(rules.hits)))
        return verdicts


_lock = threading.Lock()
_shared: Classifier | None = None


def shared_classifier(threads: int | None = None) -> Classifier:
    """The process's one classifier, loaded on first use (threads wait for one load);
    `threads` is torch's thread count for the process (see Embedder.load)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Classifier.load(threads)
        return _shared


def check_texts(texts: list[str]) -> list[TextVerdict]:
    """Score each text in every category (see engine.api for the names); blocking, CPU."""
    return shared_classifier().check_texts(texts)

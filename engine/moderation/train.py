"""Train the classifier head from data/train.jsonl and store it as data/head.npz.

    .venv/bin/python -m engine.moderation.train [--cv]

Deterministic: the same training file gives the same head. `--cv` first prints 5-fold
cross-validation figures on the training set for each preset (the rules included): that is how
the presets' thresholds in engine.api were chosen. The evaluation set (data/eval.jsonl) is never
read here; `bench/moderation.py` measures the stored head on it.
"""

from __future__ import annotations

import argparse

import numpy as np

from engine.api import CATEGORIES, PRESETS, SEXUAL, SEXUAL_MINORS, STANDARD, refused_category
from engine.moderation.embed import shared_embedder
from engine.moderation.head import (
    HARMLESS,
    HEAD_FILE,
    TRAIN_FILE,
    Example,
    data_digest,
    fit,
    read_examples,
)
from engine.moderation.rules import apply_rules

FOLDS = 5
# Thresholds the cross-validation tries for all categories at once, to choose the presets'.
SWEEP = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85)


def cross_validate(examples: list[Example], vectors: np.ndarray) -> None:
    labels = [example.label for example in examples]
    fold = np.random.default_rng(0).permutation(len(examples)) % FOLDS
    semantic = np.zeros((len(examples), len(CATEGORIES)))
    for number in range(FOLDS):
        held = fold == number
        head = fit(vectors[~held], [label for label, h in zip(labels, held, strict=True) if not h])
        semantic[held] = head.scores(vectors[held])
    scores = []
    for example, row in zip(examples, semantic, strict=True):
        found = dict(zip(CATEGORIES, row.tolist(), strict=True))
        for category, score in apply_rules(example.text, found[SEXUAL]).scores.items():
            found[category] = max(found[category], score)
        scores.append(found)
    tables = {f"one threshold {t:.2f}": _uniform(t) for t in SWEEP}
    for name, thresholds in (tables | PRESETS).items():
        refused = [refused_category(found, thresholds) is not None for found in scores]
        harmful = [r for r, label in zip(refused, labels, strict=True) if label != HARMLESS]
        harmless = [r for r, label in zip(refused, labels, strict=True) if label == HARMLESS]
        print(
            f"{FOLDS}-fold cross-validation, {name}: {np.mean(harmful):.1%} of harmful "
            f"refused, {np.mean(harmless):.1%} of harmless refused"
        )


def _uniform(threshold: float) -> dict[str, float]:
    return {**dict.fromkeys(CATEGORIES, threshold), SEXUAL_MINORS: PRESETS[STANDARD][SEXUAL_MINORS]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="print cross-validation figures")
    options = parser.parse_args()
    examples = read_examples(TRAIN_FILE)
    vectors = shared_embedder().embed([example.text for example in examples])
    if options.cv:
        cross_validate(examples, vectors)
    head = fit(vectors, [example.label for example in examples], data_digest(TRAIN_FILE))
    head.save(HEAD_FILE)
    print(f"trained on {len(examples)} examples, saved {HEAD_FILE}")


if __name__ == "__main__":
    main()

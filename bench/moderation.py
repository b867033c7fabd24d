"""How well the prompt check refuses harmful prompts and lets harmless ones through.

    .venv/bin/python bench/moderation.py [--show-misses]

Runs the classifier and rules (engine.moderation) over the labelled evaluation set that ships
with it (engine/moderation/data/eval.jsonl, written separately from the training set) and
applies each policy preset's thresholds (engine.api.PRESETS). Per preset and per category it
prints recall (the share of that category's harmful prompts refused) and the false-refusal
rate over the harmless prompts. A category a preset allows (the adult preset's sexual content)
is left out of that preset's recall. Exits 1 when the `standard` preset misses the goal: at
least 95% of harmful prompts refused and at most 5% of harmless ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from engine.api import ALLOWED, CATEGORIES, PRESETS, STANDARD, refused_category
from engine.moderation.classifier import TextVerdict, shared_classifier
from engine.moderation.head import EVAL_FILE, HARMLESS, Example, read_examples

GOAL_RECALL = 0.95
GOAL_FALSE_REFUSALS = 0.05


def figures(
    examples: list[Example], verdicts: list[TextVerdict], thresholds: dict[str, float]
) -> tuple[dict[str, tuple[int, int]], tuple[int, int], list[str]]:
    """Per category (refused, total); harmless (refused, total); the misses, described."""
    per_category: dict[str, tuple[int, int]] = {}
    harmless = [0, 0]
    misses = []
    for example, verdict in zip(examples, verdicts, strict=True):
        refused = refused_category(verdict.scores, thresholds)
        if example.label == HARMLESS:
            harmless[0] += refused is not None
            harmless[1] += 1
            if refused is not None:
                misses.append(f"  refused as {refused}: {example.text}")
            continue
        if thresholds.get(example.label, ALLOWED) >= ALLOWED:
            continue  # this preset allows the category
        done, total = per_category.get(example.label, (0, 0))
        per_category[example.label] = (done + (refused is not None), total + 1)
        if refused is None:
            top = max(verdict.scores, key=lambda name: verdict.scores[name])
            misses.append(
                f"  let through ({example.label}; top {top} "
                f"{verdict.scores[top]:.2f}): {example.text}"
            )
    return per_category, (harmless[0], harmless[1]), misses


def report(preset: str, examples: list[Example], verdicts: list[TextVerdict], show: bool) -> bool:
    per_category, (false_refusals, harmless), misses = figures(examples, verdicts, PRESETS[preset])
    refused = sum(done for done, _ in per_category.values())
    harmful = sum(total for _, total in per_category.values())
    recall = refused / harmful
    false_rate = false_refusals / harmless
    print(f"\npreset {preset}")
    print(f"  {'category':<28}{'refused':>10}{'recall':>9}")
    for category in CATEGORIES:
        if category in per_category:
            done, total = per_category[category]
            print(f"  {category:<28}{done:>5}/{total:<4}{done / total:>9.1%}")
    print(f"  {'all harmful':<28}{refused:>5}/{harmful:<4}{recall:>9.1%}")
    print(f"  {'harmless refused':<28}{false_refusals:>5}/{harmless:<4}{false_rate:>9.1%}")
    if show:
        print("\n".join(misses))
    return recall >= GOAL_RECALL and false_rate <= GOAL_FALSE_REFUSALS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true")
    options = parser.parse_args()
    examples = read_examples(EVAL_FILE)
    start = time.perf_counter()
    classifier = shared_classifier(threads=1)  # as a light worker runs it
    loaded = time.perf_counter() - start
    texts = [example.text for example in examples]
    start = time.perf_counter()
    verdicts = classifier.check_texts(texts)
    batch = time.perf_counter() - start
    singles = []
    for text in texts[:40]:
        start = time.perf_counter()
        classifier.check_texts([text])
        singles.append(time.perf_counter() - start)
    print(
        f"{len(examples)} evaluation prompts ({sum(e.label == HARMLESS for e in examples)} "
        f"harmless), {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.2f}"
    )
    print(
        f"load {loaded:.2f} s; all in one batch {batch:.2f} s; one prompt at a time: median "
        f"{statistics.median(singles) * 1000:.0f} ms, max {max(singles) * 1000:.0f} ms"
    )
    met = {preset: report(preset, examples, verdicts, options.show_misses) for preset in PRESETS}
    verdict = "meets" if met[STANDARD] else "misses"
    print(
        f"\ngoal on {STANDARD}: recall >= {GOAL_RECALL:.0%} and harmless refused <= "
        f"{GOAL_FALSE_REFUSALS:.0%}: {verdict}"
    )
    return 0 if met[STANDARD] else 1


if __name__ == "__main__":
    sys.exit(main())

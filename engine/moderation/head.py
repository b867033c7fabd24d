"""The classifier head over the sentence embeddings: multinomial logistic regression over the
categories plus "harmless", trained in numpy from the labelled prompts the project ships
(data/train.jsonl) and stored beside them (data/head.npz) by `python -m engine.moderation.train`.

A category's score is its probability against "harmless" alone, sigmoid(z_category -
z_harmless): a prompt that is both gory and terrorist is not scored down in each category for
resembling the other. Sexual content with minors is scored against "harmless or sexual".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.api import CATEGORIES, SEXUAL, SEXUAL_MINORS

DATA = Path(__file__).parent / "data"
TRAIN_FILE = DATA / "train.jsonl"
EVAL_FILE = DATA / "eval.jsonl"
HEAD_FILE = DATA / "head.npz"
HARMLESS = "harmless"
CLASSES: tuple[str, ...] = (*CATEGORIES, HARMLESS)

# Training: full-batch gradient descent with momentum; small and deterministic.
STEPS = 600
LEARNING_RATE = 2.0
MOMENTUM = 0.9
L2 = 1e-3
# The embeddings are unit vectors whose cosine similarities span a narrow range; scaling them
# lets the logits reach confident values without huge weights.
SCALE = 8.0


@dataclass(frozen=True)
class Example:
    text: str
    label: str


def read_examples(path: Path) -> list[Example]:
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["label"] not in CLASSES:
            raise ValueError(f"{path.name} line {number}: unknown label {row['label']!r}")
        examples.append(Example(row["text"], row["label"]))
    return examples


def data_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True, eq=False)
class Head:
    weights: np.ndarray  # (len(CLASSES), dimensions)
    bias: np.ndarray  # (len(CLASSES),)
    train_digest: str

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """(texts, len(CATEGORIES)) scores in [0, 1] for unit vectors (texts, dimensions)."""
        logits = (SCALE * vectors) @ self.weights.T + self.bias
        rival = np.repeat(logits[:, [len(CATEGORIES)]], len(CATEGORIES), axis=1)
        # Sexual content with minors is told apart from adult sexual content too, or the adult
        # preset would refuse adults as minors: its rival is "harmless or sexual".
        minors, sexual = CATEGORIES.index(SEXUAL_MINORS), CATEGORIES.index(SEXUAL)
        rival[:, minors] = np.logaddexp(rival[:, minors], logits[:, sexual])
        margin = logits[:, : len(CATEGORIES)] - rival
        return np.asarray(1.0 / (1.0 + np.exp(-margin)), dtype=np.float64)

    def save(self, path: Path = HEAD_FILE) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            classes=np.array(CLASSES),
            train_digest=np.array(self.train_digest),
        )

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> Head:
        with np.load(path) as stored:
            classes = tuple(str(name) for name in stored["classes"])
            if classes != CLASSES:
                raise ValueError(
                    f"{path.name} was trained for the classes {classes}, not {CLASSES}: "
                    "run `python -m engine.moderation.train` again."
                )
            return cls(
                np.asarray(stored["weights"], dtype=np.float64),
                np.asarray(stored["bias"], dtype=np.float64),
                str(stored["train_digest"]),
            )


def fit(vectors: np.ndarray, labels: list[str], train_digest: str = "") -> Head:
    """Multinomial logistic regression, each class weighted by the inverse of its count so the
    many harmless examples do not drown the small categories."""
    targets = np.array([CLASSES.index(label) for label in labels])
    counts = np.bincount(targets, minlength=len(CLASSES)).astype(np.float64)
    sample_weight = (len(labels) / (len(CLASSES) * np.maximum(counts, 1)))[targets]
    sample_weight /= sample_weight.sum()
    onehot = np.eye(len(CLASSES))[targets]
    features = SCALE * np.asarray(vectors, dtype=np.float64)
    weights = np.zeros((len(CLASSES), features.shape[1]))
    bias = np.zeros(len(CLASSES))
    velocity_w, velocity_b = np.zeros_like(weights), np.zeros_like(bias)
    for _ in range(STEPS):
        logits = features @ weights.T + bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        error = (probabilities - onehot) * sample_weight[:, None]
        grad_w = error.T @ features + L2 * weights
        grad_b = error.sum(axis=0)
        velocity_w = MOMENTUM * velocity_w - LEARNING_RATE * grad_w
        velocity_b = MOMENTUM * velocity_b - LEARNING_RATE * grad_b
        weights += velocity_w
        bias += velocity_b
    return Head(weights, bias, train_digest)

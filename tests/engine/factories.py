"""Small real requests and clips for the engine tests (tiny sizes keep the suite fast), and
progress callbacks: one that ignores progress, one that collects it with the previews."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.request import Line, RenderRequest

SMALL = RenderRequest(
    prompt="a cat in space",
    seed=1,
    width=128,
    height=128,
    fps=12,
    duration_s=1.0,
    author="alice",
    job_id="job-1",
)


def small_request(**changes: object) -> RenderRequest:
    return replace(SMALL, **changes)  # type: ignore[arg-type]


def talking_request(**changes: object) -> RenderRequest:
    lines = (Line("I can haz cheeseburger", "Cat"), Line("No.", "Dog"))
    return small_request(duration_s=2.0, dialogue=lines, **changes)


def rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))


def never(step: int, steps: int) -> None:
    """A progress callback that ignores progress."""


class Collecting:
    """A step callback that takes previews, as the pipeline's does."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, int]] = []
        self.frames: list[np.ndarray] = []

    def __call__(self, step: int, steps: int) -> None:
        self.steps.append((step, steps))

    def preview(self, frame: np.ndarray) -> None:
        self.frames.append(frame.copy())

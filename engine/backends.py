"""Video backends: what turns a request into frames. The pipeline does the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from engine.request import BadRequest, EngineError, RenderRequest

ENGINES = ("sketch", "diffusers")


class VideoBackend(Protocol):
    name: str

    def render_frames(
        self, request: RenderRequest, on_progress: Callable[[int, int], None]
    ) -> np.ndarray:
        """(request.frame_count, height, width, 3) uint8 RGB frames; `on_progress(step, steps)`
        after each chunk of frames (it may raise Cancelled, which must propagate)."""
        ...


def load_backend(name: str) -> VideoBackend:
    if name == "sketch":
        from engine.sketch import SketchBackend

        return SketchBackend()
    if name == "diffusers":
        raise EngineError(
            "The diffusers engine is not installed yet: use the sketch engine for now."
        )
    raise BadRequest(f"Unknown engine {name!r}: choose one of {', '.join(ENGINES)}.")

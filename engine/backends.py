"""Video backends: what turns a request into frames. The pipeline does the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from engine.request import BadRequest, ClipDefaults, EngineError, Rendered, RenderRequest

if TYPE_CHECKING:
    from engine.config import DiffusionOptions, WorkerConfig

ENGINES = ("sketch", "diffusers")


class VideoBackend(Protocol):
    name: str
    # What a request that leaves size, rate or length open gets (a model family's own).
    defaults: ClipDefaults

    def render(self, request: RenderRequest, on_progress: Callable[[int, int], None]) -> Rendered:
        """`request.frame_count` frames (and the backend's own audio, if it makes any);
        `on_progress(step, steps)` after each chunk of work (it may raise Cancelled, which must
        propagate). Where a picture of the clip so far is cheap, a few times per render
        `engine.previews.offer(on_progress, frame)` (a callback without a `preview` method
        simply gets none)."""
        ...


def load_backend(name: str, diffusion: DiffusionOptions | None = None) -> VideoBackend:
    if name == "sketch":
        from engine.sketch import SketchBackend

        return SketchBackend()
    if name == "diffusers":
        if diffusion is None or not diffusion.model:
            raise EngineError(
                "The diffusers engine needs CLIPCREW_VIDEO_MODEL: a local model folder or a "
                "hub id such as Wan-AI/Wan2.1-T2V-1.3B-Diffusers."
            )
        try:
            from engine.diffusion.backend import DiffusersBackend
        except ImportError as error:
            raise EngineError(
                "The diffusers engine needs the engine extra: pip install 'clipcrew[engine]'."
            ) from error
        return DiffusersBackend.load(diffusion)
    raise BadRequest(f"Unknown engine {name!r}: choose one of {', '.join(ENGINES)}.")


def load_configured_backend(config: WorkerConfig) -> VideoBackend:
    """The backend the worker's config names, with the model options it needs."""
    diffusion = config.diffusion if config.engine == "diffusers" else None
    return load_backend(config.engine, diffusion)

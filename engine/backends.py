"""Video backends: what turns a request into frames. The pipeline does the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from engine.request import BadRequest, EngineError, Rendered, RenderRequest

if TYPE_CHECKING:
    from clipcrew.settings import Settings
    from engine.diffusion.backend import DiffusionOptions

ENGINES = ("sketch", "diffusers")


class VideoBackend(Protocol):
    name: str

    def render(self, request: RenderRequest, on_progress: Callable[[int, int], None]) -> Rendered:
        """`request.frame_count` frames (and the backend's own audio, if it makes any);
        `on_progress(step, steps)` after each chunk of work (it may raise Cancelled, which must
        propagate)."""
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


def load_configured_backend(settings: Settings) -> VideoBackend:
    """The backend CLIPCREW_ENGINE names, with the model settings it needs."""
    diffusion = None
    if settings.engine == "diffusers":
        from engine.diffusion.backend import DiffusionOptions

        diffusion = DiffusionOptions(
            model=settings.video_model or "",
            device=settings.device,
            dtype=settings.dtype,
            cpu_offload=settings.cpu_offload,
            vae_tiling=settings.vae_tiling,
            audio_model=settings.audio_model,
        )
    return load_backend(settings.engine, diffusion)

"""A diffusers text-to-video pipeline as a video backend. torch and diffusers are imported here
only, inside the worker; the pipeline loads once and stays resident for every job after."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.config import DiffusionOptions
from engine.diffusion.ambience import AudioModel
from engine.diffusion.families import Family, check_request, family_of
from engine.previews import PREVIEWS_PER_RENDER, latent_preview, offer, wants_previews
from engine.request import Cancelled, ClipDefaults, EngineError, Rendered, RenderRequest

__all__ = ["DiffusersBackend", "DiffusionOptions"]

log = logging.getLogger(__name__)


class DiffusersBackend:
    name = "diffusers"

    def __init__(
        self, pipeline: Any, family: Family, device: str, audio: AudioModel | None = None
    ) -> None:
        self.pipeline = pipeline
        self.family = family
        self.device = device
        self.audio = audio
        self.defaults = ClipDefaults(
            width=family.default_width,
            height=family.default_height,
            fps=family.fps,
            frames=family.default_frames,
            steps=family.steps,
            guidance=family.guidance,
        )
        # One denoising at a time on the device; with CLIPCREW_WORKER_CONCURRENCY=2 the next
        # job denoises while the previous one's sound, checks and encoding run on the CPU.
        self._device_lock = threading.Lock()

    @classmethod
    def load(cls, options: DiffusionOptions) -> DiffusersBackend:
        import torch
        from diffusers import DiffusionPipeline

        device = _device(options.device, torch)
        dtype = _dtype(options.dtype, device, torch)
        try:
            pipeline = DiffusionPipeline.from_pretrained(options.model, dtype=dtype)  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as error:
            raise EngineError(
                f"Could not load the video model {options.model!r}: {error}"
            ) from error
        family = family_of(pipeline)
        if options.cpu_offload and device == "cuda":
            pipeline.enable_model_cpu_offload()
        else:
            pipeline.to(device)
        if options.vae_tiling and hasattr(pipeline.vae, "enable_tiling"):
            pipeline.vae.enable_tiling()
        pipeline.set_progress_bar_config(disable=True)
        log.info(
            "video model loaded",
            extra={"family": family.name, "device": device, "dtype": str(dtype)},
        )
        audio = None
        if options.audio_model and family.makes_audio:
            # Its own sound is made with the picture and fits it: no memory for a second model.
            log.info("audio model not loaded: the video model makes its own sound")
        elif options.audio_model:
            audio = AudioModel.load(options.audio_model, device=device, dtype=dtype)
        return cls(pipeline, family, device, audio)

    def render(self, request: RenderRequest, on_progress: Callable[[int, int], None]) -> Rendered:
        # 1. Check inputs against the family's limits.
        check_request(request, self.family)
        steps = request.steps or self.family.steps
        cancelled = False
        every = max(1, steps // PREVIEWS_PER_RENDER)

        # 2. Progress, previews and cancellation through the one step callback.
        def on_step_end(pipe: Any, index: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            nonlocal cancelled
            try:
                last = index + 1 == steps
                if (index + 1) % every == 0 and not last and wants_previews(on_progress):
                    frame = latent_preview(kwargs.get("latents"), self._latent_channels())
                    if frame is not None:
                        offer(on_progress, frame)
                on_progress(index + 1, steps)
            except Cancelled:
                cancelled = True
                pipe._interrupt = True  # diffusers' own stop flag: ends after this step
            return kwargs

        # 3. Denoise; the same seed on the same device gives the same frames.
        with self._device_lock:
            output = self._denoise(request, steps, on_step_end)
            if cancelled:
                raise Cancelled("The clip was cancelled.")
            # 4. Sound: the video model's own, else ambience from the audio model, if any.
            if self.family.makes_audio:
                audio, rate = self._own_audio(output)
            elif self.audio is not None:
                audio, rate = self.audio.ambience(request)
            else:
                audio, rate = None, None
        # 5. Frames come back as floats in [0, 1], shaped (batch, frames, height, width, 3).
        frames = np.asarray(output.frames[0])
        frames = np.clip(frames * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Rendered(frames, audio, rate)

    def _latent_channels(self) -> int:
        """How many channels the denoiser's latents have (which axis is which in a preview)."""
        config = getattr(getattr(self.pipeline, "transformer", None), "config", None)
        channels = getattr(config, "out_channels", None) or getattr(config, "in_channels", None)
        return int(channels) if channels is not None else 0

    def _own_audio(self, output: Any) -> tuple[np.ndarray, int]:
        """LTX-2's audio, (batch, channels, samples) at the vocoder's output rate. diffusers
        hands it back as a torch tensor whatever the output_type (bfloat16 on CUDA)."""
        audio = output.audio[0]
        if hasattr(audio, "detach"):
            audio = audio.detach().float().cpu().numpy()
        return np.asarray(audio, dtype=np.float32), int(
            self.pipeline.vocoder.config.output_sampling_rate
        )

    def _denoise(self, request: RenderRequest, steps: int, on_step_end: Any) -> Any:
        import torch

        options: dict[str, Any] = {}
        if "frame_rate" in inspect.signature(self.pipeline.__call__).parameters:
            # LTX models are conditioned on the frame rate (and LTX-2 times its audio by it).
            options["frame_rate"] = request.fps
        return self.pipeline(
            prompt=request.model_prompt,
            num_frames=request.frame_count,
            height=request.height,
            width=request.width,
            num_inference_steps=steps,
            guidance_scale=self.family.guidance,
            generator=torch.Generator(device=self.device).manual_seed(request.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            **options,
        )


def _device(wanted: str, torch: Any) -> str:
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cuda" and not torch.cuda.is_available():
        raise EngineError("CLIPCREW_DEVICE is cuda, but this machine has no CUDA device.")
    return wanted


def _dtype(wanted: str, device: str, torch: Any) -> Any:
    if wanted == "auto":
        return torch.bfloat16 if device == "cuda" else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
            wanted
        ]
    except KeyError:
        message = f"CLIPCREW_DTYPE must be float32, bfloat16 or float16, not {wanted!r}."
        raise EngineError(message) from None

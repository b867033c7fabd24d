"""Ambience and sound effects from a diffusers text-to-audio pipeline (CLIPCREW_AUDIO_MODEL), for
video models that make no sound of their own. Loaded once beside the video model."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.request import EngineError, RenderRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioFamily:
    name: str
    steps: int
    guidance: float


AUDIO_FAMILIES: dict[str, AudioFamily] = {
    "StableAudioPipeline": AudioFamily("Stable Audio", 100, 7.0),
    "AudioLDM2Pipeline": AudioFamily("AudioLDM 2", 200, 3.5),
}

# Quoted dialogue is spoken by the speech backend; an audio model asked for it only mumbles.
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')


def ambience_prompt(prompt: str) -> str:
    """The scene without its dialogue: what the ambience should sound like."""
    return " ".join(_QUOTED.sub(" ", prompt).split()) or prompt


class AudioModel:
    def __init__(self, pipeline: Any, family: AudioFamily, device: str) -> None:
        self.pipeline = pipeline
        self.family = family
        self.device = device

    @classmethod
    def load(cls, model: str, *, device: str, dtype: Any) -> AudioModel:
        from diffusers import DiffusionPipeline

        try:
            pipeline = DiffusionPipeline.from_pretrained(model, dtype=dtype)  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as error:
            raise EngineError(f"Could not load the audio model {model!r}: {error}") from error
        name = type(pipeline).__name__
        if name not in AUDIO_FAMILIES:
            known = ", ".join(sorted(AUDIO_FAMILIES))
            raise EngineError(
                f"CLIPCREW_AUDIO_MODEL holds a {name}, not a text-to-audio pipeline ({known})."
            )
        pipeline.to(device)
        pipeline.set_progress_bar_config(disable=True)
        log.info("audio model loaded", extra={"family": AUDIO_FAMILIES[name].name})
        return cls(pipeline, AUDIO_FAMILIES[name], device)

    def ambience(self, request: RenderRequest) -> tuple[np.ndarray, int]:
        """(channels, samples) float32 and its sample rate, about the clip's length (the
        soundtrack step fits it exactly). The same request gives the same sound."""
        import torch

        generator = torch.Generator(device=self.device).manual_seed(request.seed_for("ambience"))
        options: dict[str, Any] = dict(
            prompt=ambience_prompt(request.prompt),
            # A request's steps are its denoising budget, for this model as for the video's.
            num_inference_steps=request.steps or self.family.steps,
            guidance_scale=self.family.guidance,
            generator=generator,
            output_type="np",
        )
        if self.family.name == "Stable Audio":
            return self._stable_audio(options, request.video_duration_s)
        return self._audioldm2(options, request.video_duration_s)

    def _stable_audio(self, options: dict[str, Any], seconds: float) -> tuple[np.ndarray, int]:
        vae, transformer = self.pipeline.vae, self.pipeline.transformer
        rate = int(vae.config.sampling_rate)
        # Stable Audio makes at most this much; a longer clip gets the rest as silence.
        longest = transformer.config.sample_size * vae.hop_length / rate
        output = self.pipeline(audio_end_in_s=min(seconds, longest), **options)
        return np.asarray(output.audios[0], dtype=np.float32), rate

    def _audioldm2(self, options: dict[str, Any], seconds: float) -> tuple[np.ndarray, int]:
        output = self.pipeline(audio_length_in_s=seconds, **options)
        # AudioLDM 2 is mono: (batch, samples).
        audio = np.asarray(output.audios[0], dtype=np.float32)[np.newaxis]
        return audio, int(self.pipeline.vocoder.config.sampling_rate)

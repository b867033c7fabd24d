"""`generate()`: one request in, one finished MP4 out, in numbered steps.

Synchronous and CPU-bound; the worker runs it in a thread. Progress and cancellation share one
callback: it receives StageProgress, and raising Cancelled from it stops the pipeline.
"""

from __future__ import annotations

import numpy as np

from engine.audio import SAMPLE_RATE, fit_audio, soundtrack
from engine.backends import VideoBackend
from engine.cameos import Blocked, OutputVerdict, Screen, SwapTool, place_cameos
from engine.dialogue import Cue, plan_dialogue
from engine.encode import encode_mp4
from engine.moderation.nudity import NudityScreen
from engine.previews import jpeg_preview
from engine.provenance.fingerprint import fingerprint_frames
from engine.request import (
    BadRequest,
    EncodedClip,
    EngineError,
    ProgressCallback,
    Rendered,
    RenderRequest,
    StageProgress,
)
from engine.speech import speak
from engine.watermark import apply_watermark, provenance

# x264's preset for a clip's first encode, at constant quality (CRF 23). Measured on this
# 2-core CPU, 121 sketch frames at 768x512: veryfast 0.98 s (303 KB), superfast 0.70 s (584 KB),
# ultrafast 0.50 s (737 KB). Post-processing must stay within 1 s, and a clip a few hundred KB
# bigger is far under every platform's limit; squeezing under a limit still uses veryfast.
CLIP_PRESET = "ultrafast"
MIN_SIDE, MAX_SIDE = 64, 1920
MIN_FPS, MAX_FPS = 4, 60
MIN_DURATION_S, MAX_DURATION_S = 0.5, 30.0
# Frames are held in memory whole: 500 M pixels is 1.5 GB, about 1080p at 24 fps for 10 s.
MAX_PIXELS = 500_000_000

# Each stage's share of the whole run, roughly as the sketch engine spends its time.
STAGE_WEIGHTS = {"rendering": 0.45, "sound": 0.05, "watermark": 0.05, "encoding": 0.45}


class _Progress:
    """Turns a stage's step i of n into StageProgress with the fraction of the whole run."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._fraction = 0.0
        self._at = ("rendering", 0, 1)

    def report(self, stage: str, step: int, steps: int) -> None:
        start = 0.0
        for name, weight in STAGE_WEIGHTS.items():
            if name == stage:
                break
            start += weight
        # Never backwards: a re-encode to fit a size limit reports its frames a second time.
        fraction = min(1.0, start + STAGE_WEIGHTS[stage] * step / max(1, steps))
        self._fraction = max(self._fraction, fraction)
        self._at = (stage, step, steps)
        if self._callback is not None:
            self._callback(StageProgress(stage, step, steps, self._fraction))

    def preview(self, frame: np.ndarray) -> None:
        """A frame of the picture so far, sent with where the run is now as a small JPEG."""
        if self._callback is not None:
            stage, step, steps = self._at
            jpeg = jpeg_preview(frame)
            self._callback(StageProgress(stage, step, steps, self._fraction, preview=jpeg))

    def stage(self, name: str) -> _Stage:
        return _Stage(self, name)


class _Stage:
    """One stage's step callback; its `preview` takes the frames a backend offers."""

    def __init__(self, progress: _Progress, name: str) -> None:
        self._progress, self._name = progress, name

    def __call__(self, step: int, steps: int) -> None:
        self._progress.report(self._name, step, steps)

    def preview(self, frame: np.ndarray) -> None:
        self._progress.preview(frame)


def check_inputs(request: RenderRequest, target_bytes: int | None = None) -> None:
    """Refuse, naming the value, anything the engine would otherwise have to bend."""
    for label, side in (("width", request.width), ("height", request.height)):
        if not MIN_SIDE <= side <= MAX_SIDE or side % 2:
            raise BadRequest(
                f"The {label} must be an even number of pixels from {MIN_SIDE} to {MAX_SIDE}, "
                f"not {side}."
            )
    if not MIN_FPS <= request.fps <= MAX_FPS:
        raise BadRequest(f"The frame rate must be {MIN_FPS} to {MAX_FPS} fps, not {request.fps}.")
    if not MIN_DURATION_S <= request.duration_s <= MAX_DURATION_S:
        raise BadRequest(
            f"The duration must be {MIN_DURATION_S:g} to {MAX_DURATION_S:g} seconds, "
            f"not {request.duration_s:g}."
        )
    if not request.prompt.strip():
        raise BadRequest("The prompt is empty: say what the clip should show.")
    pixels = request.width * request.height * request.frame_count
    if pixels > MAX_PIXELS:
        raise BadRequest(
            f"A {request.width}x{request.height} clip of {request.frame_count} frames is too big "
            "to render: ask for a smaller size, a lower frame rate or a shorter clip."
        )
    if target_bytes is not None and target_bytes <= 0:
        raise BadRequest(f"The size limit must be positive, not {target_bytes} bytes.")


def _check_frames(frames: np.ndarray, request: RenderRequest, engine: str) -> None:
    """A backend that breaks its contract fails here, not as a puzzle inside the encoder."""
    expected = (request.frame_count, request.height, request.width, 3)
    if frames.shape != expected or frames.dtype != np.uint8:
        raise EngineError(
            f"The {engine} engine made frames shaped {frames.shape} of {frames.dtype}, "
            f"not {expected} of uint8."
        )


def _bed(rendered: Rendered, duration_s: float, engine: str) -> np.ndarray | None:
    """The backend's own audio fitted to the clip, or None when it made none."""
    if rendered.audio is None:
        return None
    if rendered.sample_rate is None:
        raise EngineError(f"The {engine} engine made audio without saying its sample rate.")
    try:
        return fit_audio(
            rendered.audio, rendered.sample_rate, duration_s=duration_s, sample_rate=SAMPLE_RATE
        )
    except ValueError as error:
        message = f"The {engine} engine made audio the mixer cannot use: {error}."
        raise EngineError(message) from error


def _score(
    request: RenderRequest,
    rendered: Rendered,
    cues: tuple[Cue, ...],
    *,
    engine: str,
    voice: str | None,
    progress: _Progress,
) -> np.ndarray:
    """The clip's audio: the dialogue spoken over the backend's sound or the music."""
    duration_s = request.video_duration_s
    progress.report("sound", 0, 2)
    speech = speak(cues, duration_s=duration_s, sample_rate=SAMPLE_RATE, voice=voice)
    progress.report("sound", 1, 2)
    bed = _bed(rendered, duration_s, engine)
    audio = soundtrack(request, speech, sample_rate=SAMPLE_RATE, bed=bed)
    progress.report("sound", 2, 2)
    return audio


def generate(
    request: RenderRequest,
    backend: VideoBackend,
    *,
    on_progress: ProgressCallback | None = None,
    target_bytes: int | None = None,
    voice: str | None = None,
    swap: SwapTool | None = None,
    screen: Screen | None = None,
    verdicts: list[OutputVerdict] | None = None,
    nudity: NudityScreen | None = None,
) -> EncodedClip:
    """Render, score, watermark and encode one clip. `voice` is CLIPCREW_TTS_VOICE: a Piper
    voice model file speaks the dialogue; otherwise espeak-ng does. `swap` (CLIPCREW_SWAPPER_MODEL)
    puts cameo faces into model-made frames; the sketch engine composites them without it.
    `screen` is the output check: its verdict is appended to `verdicts`, and a clip it blocks
    raises Blocked before anything is encoded. `nudity` is the nudity check beside it: it raises
    NudityBlocked (a Blocked) for a clip over the chat's threshold.

    Raises BadRequest for a request it refuses, Cancelled if `on_progress` raised it,
    ClipTooLarge if the clip cannot fit `target_bytes`, and EngineError for other failures.
    """
    progress = _Progress(on_progress)

    # 1. Check inputs
    check_inputs(request, target_bytes)
    # When each line is spoken; raises BadRequest if the lines cannot fit the clip.
    cues = plan_dialogue(request)

    # 2. Video frames, and the backend's own sound if it makes any
    rendered = backend.render(request, progress.stage("rendering"))
    frames = rendered.frames
    _check_frames(frames, request, backend.name)

    # 3. Soundtrack: the backend's audio (else synthesized music) under the dialogue
    audio = _score(request, rendered, cues, engine=backend.name, voice=voice, progress=progress)

    # 4. Cameos: the consenting people's faces (the worker checked consent before step 1)
    place_cameos(frames, request, engine=backend.name, swap=swap)

    # 5. Output check: no enrolled face without consent, no nudity over the chat's threshold
    _check_output(frames, screen=screen, verdicts=verdicts, nudity=nudity)

    # 6. Watermark and provenance: the moving label, the metadata, and the fingerprint of
    # exactly what is encoded (the C2PA manifest is signed by the worker once the clip has its
    # number: signing must come after the last remux)
    metadata, fingerprint = _mark(frames, audio, request, engine=backend.name, progress=progress)

    # 7. Encode
    data = encode_mp4(
        frames,
        audio,
        fps=request.fps,
        sample_rate=SAMPLE_RATE,
        metadata=metadata,
        target_bytes=target_bytes,
        on_progress=progress.stage("encoding"),
        preset=CLIP_PRESET,
    )
    return _clip(data, request, engine=backend.name, fingerprint=fingerprint)


def _check_output(
    frames: np.ndarray,
    *,
    screen: Screen | None,
    verdicts: list[OutputVerdict] | None,
    nudity: NudityScreen | None,
) -> None:
    """On the frames, before encoding: the face check's verdict goes to `verdicts` and raises
    Blocked if it blocks the clip; the nudity check raises NudityBlocked (a Blocked)."""
    if screen is not None:
        verdict = screen(frames)
        if verdicts is not None:
            verdicts.append(verdict)
        if verdict.blocked:
            raise Blocked()
    if nudity is not None:
        nudity(frames)


def _mark(
    frames: np.ndarray,
    audio: np.ndarray,
    request: RenderRequest,
    *,
    engine: str,
    progress: _Progress,
) -> tuple[dict[str, str], bytes]:
    """Watermark `frames` in place; the container metadata and the clip's fingerprint."""
    apply_watermark(frames, request)
    metadata = provenance(request, engine=engine)
    fingerprint = fingerprint_frames(frames, request.fps, audio, SAMPLE_RATE).to_bytes()
    progress.report("watermark", 1, 1)
    return metadata, fingerprint


def _clip(data: bytes, request: RenderRequest, *, engine: str, fingerprint: bytes) -> EncodedClip:
    return EncodedClip(
        data=data,
        width=request.width,
        height=request.height,
        fps=request.fps,
        # The soundtrack follows the video's length, which is a whole number of frames.
        duration_s=request.video_duration_s,
        has_audio=True,
        engine=engine,
        fingerprint=fingerprint,
    )

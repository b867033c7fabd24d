"""`clipcrew generate`: one clip rendered in the terminal, with a progress bar."""

from __future__ import annotations

import argparse
import sys

from bot.deps import random_seed
from bot.errors import BotError
from bot.prompt import parse_prompt
from clipcrew.settings import Settings
from engine.request import ClipDefaults, EngineError, RenderRequest, StageProgress, clip_shape

BAR_WIDTH = 30


def render_to_file(settings: Settings, args: argparse.Namespace) -> int:
    from clipcrew.config import worker_config
    from engine.backends import load_configured_backend
    from engine.pipeline import generate

    try:
        parsed = parse_prompt(args.prompt, max_chars=settings.max_prompt_chars)
        backend = load_configured_backend(worker_config(settings))
        # Flags, then settings, then the engine's own (a model family's size, rate and length).
        shape = clip_shape(
            backend.defaults,
            width=args.width or settings.clip_width,
            height=args.height or settings.clip_height,
            fps=args.fps or settings.clip_fps,
            duration_s=None if args.frames else args.seconds or settings.clip_seconds,
            frames=args.frames,
        )
        request = RenderRequest(
            prompt=parsed.text,
            seed=args.seed if args.seed is not None else random_seed(),
            width=shape.width,
            height=shape.height,
            fps=shape.fps,
            duration_s=shape.duration_s,
            dialogue=parsed.dialogue,
            author=args.author,
            frames=shape.frames,
            steps=args.steps,
        )
        print(_describe(backend.name, request, backend.defaults), flush=True)
        clip = generate(request, backend, on_progress=_bar, voice=settings.tts_voice)
    except (BotError, EngineError) as error:
        print(f"\nclipcrew: {error}", file=sys.stderr)
        return 2
    args.output.write_bytes(clip.data)
    print(
        f"\nwrote {args.output} ({clip.size_bytes / 1e6:.2f} MB, {clip.width}x{clip.height}, "
        f"{clip.duration_s:.1f} s, seed {request.seed})"
    )
    return 0


def _describe(engine: str, request: RenderRequest, defaults: ClipDefaults) -> str:
    """The values this render uses, so a refusal or a surprise can be traced to one of them."""
    steps = request.steps or defaults.steps
    text = (
        f"{engine}: {request.width}x{request.height}, {request.frame_count} frames at "
        f"{request.fps} fps ({request.video_duration_s:.2f} s)"
    )
    if steps is not None:
        text += f", {steps} steps"
    if defaults.guidance is not None:
        text += f", guidance {defaults.guidance:g}"
    return text


def _bar(progress: StageProgress) -> None:
    filled = int(progress.fraction * BAR_WIDTH)
    bar = "█" * filled + "·" * (BAR_WIDTH - filled)
    sys.stderr.write(f"\r[{bar}] {progress.fraction:4.0%} {progress.stage:<12}")
    sys.stderr.flush()

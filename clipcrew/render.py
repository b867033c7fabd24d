"""`clipcrew generate`: one clip rendered in the terminal, with a progress bar."""

from __future__ import annotations

import argparse
import secrets
import sys

from bot.errors import BotError
from bot.prompt import parse_prompt
from clipcrew.settings import Settings
from engine.request import EngineError, RenderRequest, StageProgress

BAR_WIDTH = 30


def render_to_file(settings: Settings, args: argparse.Namespace) -> int:
    from engine.backends import load_configured_backend
    from engine.pipeline import generate

    try:
        parsed = parse_prompt(args.prompt, max_chars=settings.max_prompt_chars)
        fps = args.fps or settings.clip_fps
        request = RenderRequest(
            prompt=parsed.text,
            seed=args.seed if args.seed is not None else secrets.randbelow(2**31 - 1),
            width=args.width or settings.clip_width,
            height=args.height or settings.clip_height,
            fps=fps,
            # A frame count, where given, is the length; seconds are for the sketch engine.
            duration_s=args.frames / fps if args.frames else args.seconds or settings.clip_seconds,
            dialogue=parsed.dialogue,
            author=args.author,
            frames=args.frames,
            steps=args.steps,
        )
        backend = load_configured_backend(settings)
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


def _bar(progress: StageProgress) -> None:
    filled = int(progress.fraction * BAR_WIDTH)
    bar = "█" * filled + "·" * (BAR_WIDTH - filled)
    sys.stderr.write(f"\r[{bar}] {progress.fraction:4.0%} {progress.stage:<12}")
    sys.stderr.flush()

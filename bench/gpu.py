"""A real-size benchmark of the diffusers engine on a CUDA GPU with real weights.

    CLIPCREW_VIDEO_MODEL=/models/Wan2.1-T2V-1.3B-Diffusers .venv/bin/python bench/gpu.py
    HF_HUB_OFFLINE=1 CLIPCREW_VIDEO_MODEL=Wan-AI/Wan2.1-T2V-1.3B-Diffusers \
        .venv/bin/python bench/gpu.py [--runs 1] [--seconds 5] [--steps N]

It runs only where torch sees a CUDA device and CLIPCREW_VIDEO_MODEL names either an existing
local folder or a hub id already in the Hugging Face cache with HF_HUB_OFFLINE set (it never
downloads). Anywhere else it prints why it skips and exits 0, so CI never needs a GPU.

The model loads once, as a worker loads it (`load_configured_backend` with the engine forced to
diffusers and the other CLIPCREW_* settings from the environment). Each run then makes a clip of
about `--seconds` at the family's default size, fps and steps (engine/diffusion/families.py)
through `generate()`, and reports: load time, seconds per denoising step (steps after the first,
synchronised with the GPU), generation time (the backend's render: text encoding, denoising,
VAE decoding and the model's own sound), post-processing time (soundtrack, watermark, encode)
and peak GPU memory (torch.cuda.max_memory_allocated). The first run includes CUDA's warm-up;
give `--runs 2` or more for steady figures. Post-processing should stay well below generation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

GiB = 1024**3
_TRUE = {"1", "on", "yes", "true"}


def skip_reasons() -> list[str]:
    """Why this machine cannot run the benchmark; empty when it can."""
    reasons = []
    try:
        import torch
    except ImportError:
        return ["torch is not installed (pip install 'clipcrew[engine]')"]
    if not torch.cuda.is_available():
        reasons.append(f"torch {torch.__version__} sees no CUDA device")
    if os.environ.get("CLIPCREW_DEVICE") == "cpu":
        reasons.append("CLIPCREW_DEVICE is cpu")
    model = os.environ.get("CLIPCREW_VIDEO_MODEL", "")
    if not model:
        reasons.append("CLIPCREW_VIDEO_MODEL is not set (a local model folder or a cached hub id)")
    elif Path(model).is_dir():
        pass
    elif os.environ.get("HF_HUB_OFFLINE", "").lower() not in _TRUE:
        reasons.append(
            f"CLIPCREW_VIDEO_MODEL={model!r} is not a local folder, and HF_HUB_OFFLINE is not "
            "set (this benchmark never downloads weights)"
        )
    elif not _cached(model):
        reasons.append(
            f"CLIPCREW_VIDEO_MODEL={model!r} is neither a local folder nor in the HF cache"
        )
    return reasons


def _cached(repo_id: str) -> bool:
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached, or not a valid repo id: either way nothing to load
        return False
    return True


def frames_for(seconds: float, fps: int, frame_step: int) -> int:
    """The family's frame count (k * frame_step + 1) nearest to `seconds` at `fps`."""
    return max(1, round((seconds * fps - 1) / frame_step)) * frame_step + 1


def timed_run(backend: Any, request: Any, torch: Any) -> dict[str, float]:
    from engine.pipeline import generate
    from engine.request import StageProgress

    steps: dict[int, float] = {}
    first: dict[str, float] = {}

    def note(progress: StageProgress) -> None:
        if progress.stage == "rendering":
            torch.cuda.synchronize()  # step callbacks run ahead of the GPU otherwise
            steps[progress.step] = time.perf_counter()
        first.setdefault(progress.stage, time.perf_counter())

    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    generate(request, backend, on_progress=note)
    end = time.perf_counter()
    numbers = sorted(steps)
    per_step = (steps[numbers[-1]] - steps[numbers[0]]) / max(1, numbers[-1] - numbers[0])
    return {
        "steps": len(numbers),
        "per_step": per_step,
        "generation": first["sound"] - start,
        "post": end - first["sound"],
        "total": end - start,
        "peak_gib": torch.cuda.max_memory_allocated() / GiB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--steps", type=int, default=None, help="default: the family's")
    options = parser.parse_args()
    reasons = skip_reasons()
    if reasons:
        print(f"skipped: {'; '.join(reasons)}")
        sys.exit(0)

    import torch

    from clipcrew.settings import Settings
    from engine.backends import load_configured_backend
    from engine.request import Line, RenderRequest

    settings = Settings(CLIPCREW_ENGINE="diffusers")  # type: ignore[call-arg]
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    backend: Any = load_configured_backend(settings)
    load_s = time.perf_counter() - started
    load_gib = torch.cuda.max_memory_allocated() / GiB
    family = backend.family
    frames = frames_for(options.seconds, family.fps, family.frame_step)
    request = RenderRequest(
        prompt="a cat in space finds the last slice of pizza",
        seed=42,
        width=family.default_width,
        height=family.default_height,
        fps=family.fps,
        duration_s=frames / family.fps,
        frames=frames,
        steps=options.steps,
        dialogue=(Line("Is that the last slice?", "Cat"),),
        author="bench",
        job_id="bench",
    )
    print(
        f"{torch.cuda.get_device_name()}, {family.name} from {settings.video_model}, "
        f"{frames} frames {request.width}x{request.height} at {family.fps} fps "
        f"({request.video_duration_s:.2f} s), {options.steps or family.steps} steps"
    )
    print(f"load        {load_s:>8.1f} s   {load_gib:.1f} GiB on the GPU after loading")
    header = f"{'run':<6}{'steps':>6}{'s/step':>9}{'gen s':>9}{'post s':>9}{'total s':>9}"
    print(f"{header}{'peak GiB':>10}")
    for number in range(1, options.runs + 1):
        run = timed_run(backend, request, torch)
        print(
            f"{number:<6}{run['steps']:>6.0f}{run['per_step']:>9.3f}{run['generation']:>9.1f}"
            f"{run['post']:>9.2f}{run['total']:>9.1f}{run['peak_gib']:>10.1f}"
        )
    share = run["post"] / run["total"]
    print(f"post-processing is {share:.1%} of the last run (it should never be the bottleneck)")


if __name__ == "__main__":
    main()

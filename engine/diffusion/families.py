"""What each text-to-video model family accepts, in one table. A request outside it is refused
with the bad value named: never silently rounded (diffusers itself would only warn)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.request import BadRequest, RenderRequest


@dataclass(frozen=True)
class Family:
    name: str
    # Frame counts the model makes: frames % frame_step == 1 (4k+1, 8k+1, ...).
    frame_step: int
    # Width and height must be multiples of this.
    size_step: int
    fps: int
    steps: int
    guidance: float
    default_width: int
    default_height: int
    default_frames: int
    # LTX-2 makes the soundtrack together with the picture.
    makes_audio: bool = False


FAMILIES: dict[str, Family] = {
    "WanPipeline": Family("Wan", 4, 16, 16, 50, 5.0, 832, 480, 81),
    "LTXPipeline": Family("LTX-Video", 8, 32, 24, 50, 3.0, 704, 480, 161),
    "LTX2Pipeline": Family("LTX-2", 8, 32, 24, 40, 4.0, 768, 512, 121, makes_audio=True),
    "CogVideoXPipeline": Family("CogVideoX", 8, 16, 8, 50, 6.0, 720, 480, 49),
}


def family_of(pipeline: object) -> Family:
    name = type(pipeline).__name__
    try:
        return FAMILIES[name]
    except KeyError:
        known = ", ".join(sorted(FAMILIES))
        raise BadRequest(f"{name} is not a supported text-to-video pipeline ({known}).") from None


def check_request(request: RenderRequest, family: Family) -> None:
    frames = request.frame_count
    if frames % family.frame_step != 1:
        below = frames - (frames - 1) % family.frame_step
        raise BadRequest(
            f"{family.name} makes {family.frame_step}k+1 frames; {frames} is not one of them "
            f"(try {below} or {below + family.frame_step})."
        )
    for label, side in (("width", request.width), ("height", request.height)):
        if side % family.size_step:
            raise BadRequest(
                f"{family.name} needs a {label} that is a multiple of {family.size_step}, "
                f"not {side}."
            )
    if request.steps is not None and not 1 <= request.steps <= 200:
        raise BadRequest(f"The number of steps must be 1 to 200, not {request.steps}.")

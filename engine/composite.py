"""Cameo heads pasted into the sketch engine's cartoon: a person's own face, bobbing and turning.

Each cameo brings the reference crops its enrollment kept (RGB arrays around the face, from
the most left-turned to the most right-turned). They become a "head": the crop under a soft
elliptical mask, large enough (a third to nearly half of the frame's height) that a face
detector still finds it, which is what makes the output check on the finished clip meaningful.
Several cameos stand side by side. Over time a head bobs and sways, and a slow sine switches
between its crops, so it seems to look left and right. A name label rides under it.

Everything costly (resizing, masks, labels) is done once per clip; each frame is then a few
integer blends over numpy slices, a fraction of a millisecond per head.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.captions import text_sprite

# More heads side by side would be too small for a face detector to find.
MAX_CAMEOS = 4
# Head height as a share of the frame's height, by the number of cameos side by side.
_HEAD_SHARE = {1: 0.45, 2: 0.4}
_HEAD_SHARE_MANY = 0.34
# Heads never take more than this share of their slot's width, so neighbours don't overlap.
_SLOT_FILL = 0.9
# Where the middle of a head (and its label) sits, as a share of the frame's height: below the
# caption, above the characters' heads and the subtitles.
_CENTRE_Y = 0.45
# The mask's soft rim, as a share of the ellipse's radius.
_FEATHER = 0.15
# Bob and sway amplitudes as shares of the frame's height and width; periods in seconds.
_BOB = 0.025
_SWAY = 0.03
_BOB_PERIOD_S = (1.6, 2.4)
_SWAY_PERIOD_S = (3.0, 5.0)
_TURN_PERIOD_S = (2.5, 4.0)
# Below this a head and its label no longer fit (and no detector would find the face anyway).
_MIN_SIDE = 64
# Blend weights are integers out of 256, so a blend is two multiplies and a shift in uint16.
_ONE = 256


@dataclass(frozen=True, eq=False)
class CameoLook:
    """How a cameo appears: the name under the head and the crops it turns through."""

    name: str
    # RGB uint8 (H, W, 3) crops around the face, from the most left-turned to the most
    # right-turned (as `engine.faces.enrollment.Enrollment.crops`).
    crops: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class _Layer:
    """A picture ready to blend: colour times alpha, and what is left of the background."""

    premultiplied: np.ndarray  # (h, w, 3) uint16
    rest: np.ndarray  # (h, w, 1) uint16, _ONE - alpha

    @property
    def height(self) -> int:
        return int(self.rest.shape[0])

    @property
    def width(self) -> int:
        return int(self.rest.shape[1])

    def blend(self, frame: np.ndarray, x: int, y: int) -> None:
        region = frame[y : y + self.height, x : x + self.width]
        region[...] = (self.premultiplied + region * self.rest) >> 8


@dataclass(frozen=True, eq=False)
class _Head:
    turns: tuple[_Layer, ...]  # one per crop, same size
    label: _Layer
    # Top-left corner of the head at rest, in pixels.
    x: int
    y: int
    # Motion: periods in seconds and phases in radians.
    bob: tuple[float, float]
    sway: tuple[float, float]
    turn: tuple[float, float]


def composite_cameos(
    frames: np.ndarray, cameos: Sequence[CameoLook], *, seed: int, fps: float = 24.0
) -> None:
    """Paste each cameo's head into `frames`, an (N, H, W, 3) uint8 array, in place.

    The same frames, cameos and seed always give the same pixels; `fps` only sets how fast
    the heads move. Raises ValueError for frames or crops of the wrong shape or type.
    """
    # 1. Check inputs
    _check_frames(frames)
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if len(cameos) > MAX_CAMEOS:
        raise ValueError(f"at most {MAX_CAMEOS} cameos fit side by side, got {len(cameos)}")
    for cameo in cameos:
        _check_crops(cameo)
    if not cameos:
        return
    # 2. Heads, masks and labels, drawn once
    heads = _prepare(frames.shape[1], frames.shape[2], cameos, seed)
    # 3. Blend them into every frame
    height, width = frames.shape[1], frames.shape[2]
    for index, frame in enumerate(frames):
        t = index / fps
        for head in heads:
            layer, x, y = _pose(head, t, width, height)
            layer.blend(frame, x, y)
            head.label.blend(frame, x, y + layer.height)


def _check_frames(frames: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(
            f"cameos are pasted into (N, H, W, 3) uint8 frames, got {frames.dtype} {frames.shape}"
        )
    if frames.shape[1] < _MIN_SIDE or frames.shape[2] < _MIN_SIDE:
        raise ValueError(
            f"frames of {frames.shape[2]}x{frames.shape[1]} are too small for a cameo; "
            f"both sides need at least {_MIN_SIDE} pixels"
        )
    if not frames.flags.writeable:
        raise ValueError("cameos are pasted in place, but the frames are read-only")


def _check_crops(cameo: CameoLook) -> None:
    if not cameo.crops:
        raise ValueError(f"the cameo {cameo.name!r} has no face crops")
    for crop in cameo.crops:
        if crop.dtype != np.uint8 or crop.ndim != 3 or crop.shape[2] != 3 or 0 in crop.shape:
            raise ValueError(
                f"the cameo {cameo.name!r} has a crop that is not (H, W, 3) uint8 RGB: "
                f"{crop.dtype} {crop.shape}"
            )


def _prepare(height: int, width: int, cameos: Sequence[CameoLook], seed: int) -> list[_Head]:
    rng = np.random.default_rng(seed)
    count = len(cameos)
    slot = width / count
    share = _HEAD_SHARE.get(count, _HEAD_SHARE_MANY)
    label_size = max(9, round(height / 24))
    heads = []
    for index, cameo in enumerate(cameos):
        # One size for all of a cameo's crops, from their median shape.
        aspect = float(np.median([crop.shape[1] / crop.shape[0] for crop in cameo.crops]))
        head_h = round(share * height)
        head_w = round(head_h * aspect)
        if head_w > _SLOT_FILL * slot:
            head_w = math.floor(_SLOT_FILL * slot)
            head_h = round(head_w / aspect)
        label = _label(cameo.name, width=head_w, size=label_size)
        # Room to move without leaving the frame: the motion is clamped in _pose.
        x = round(slot * (index + 0.5) - head_w / 2)
        y = round(_CENTRE_Y * height - (head_h + label.height) / 2)
        heads.append(
            _Head(
                turns=_turns(cameo.crops, head_w, head_h),
                label=label,
                x=x,
                y=y,
                bob=_motion(rng, _BOB_PERIOD_S),
                sway=_motion(rng, _SWAY_PERIOD_S),
                turn=_motion(rng, _TURN_PERIOD_S),
            )
        )
    return heads


def _motion(rng: np.random.Generator, periods: tuple[float, float]) -> tuple[float, float]:
    return float(rng.uniform(*periods)), float(rng.uniform(0.0, 2 * math.pi))


def _ellipse_rest(width: int, height: int) -> np.ndarray:
    """_ONE - alpha of an ellipse filling width x height, opaque inside, soft at the rim."""
    xs = (np.arange(width, dtype=np.float32) + 0.5) / width * 2 - 1
    ys = (np.arange(height, dtype=np.float32) + 0.5) / height * 2 - 1
    radius = np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2)
    alpha = np.clip((1.0 - radius) / _FEATHER, 0.0, 1.0)
    weights = np.round(alpha * _ONE).astype(np.uint16)
    rest: np.ndarray = (_ONE - weights)[..., None]
    return rest


def _turns(crops: tuple[np.ndarray, ...], width: int, height: int) -> tuple[_Layer, ...]:
    rest = _ellipse_rest(width, height)
    alpha = _ONE - rest
    layers = []
    for crop in crops:
        resized = Image.fromarray(crop).resize((width, height), Image.Resampling.LANCZOS)
        premultiplied = np.asarray(resized, dtype=np.uint16) * alpha
        layers.append(_Layer(premultiplied=premultiplied, rest=rest))
    return tuple(layers)


def _label(name: str, *, width: int, size: int) -> _Layer:
    sprite = np.asarray(text_sprite(name, width=width, size=size, max_lines=1))
    # Pillow's 0..255 alpha becomes 0..256 so that opaque text replaces the background exactly.
    alpha = sprite[..., 3:].astype(np.uint16)
    alpha += alpha >> 7
    premultiplied = sprite[..., :3].astype(np.uint16) * alpha
    return _Layer(premultiplied=premultiplied, rest=_ONE - alpha)


def _pose(head: _Head, t: float, width: int, height: int) -> tuple[_Layer, int, int]:
    """The crop shown at `t` and where its top-left corner goes, kept inside the frame."""
    turn = math.sin(2 * math.pi * t / head.turn[0] + head.turn[1])
    layer = head.turns[round((turn + 1) / 2 * (len(head.turns) - 1))]
    dx = _SWAY * width * math.sin(2 * math.pi * t / head.sway[0] + head.sway[1])
    dy = _BOB * height * math.sin(2 * math.pi * t / head.bob[0] + head.bob[1])
    x = min(max(round(head.x + dx), 0), width - layer.width)
    y = min(max(round(head.y + dy), 0), height - layer.height - head.label.height)
    return layer, x, y

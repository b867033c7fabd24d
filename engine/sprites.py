"""Characters and shapes for the sketch renderer, drawn once as RGBA images.

Each sprite is drawn at four times its size and scaled down: Pillow's shapes have no
anti-aliasing of their own, and the downscale smooths every edge for free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
_SUPERSAMPLE = 4

# Creatures a prompt (or a speaker's name) can ask for by keyword; anything else is a blob.
CREATURES: dict[str, tuple[str, ...]] = {
    "cat": ("cat", "cats", "kitten", "kitty", "meow", "garfield"),
    "dog": ("dog", "dogs", "puppy", "doge", "woof", "pup", "doggo", "shiba"),
    "frog": ("frog", "frogs", "pepe", "toad", "ribbit"),
    "robot": ("robot", "robots", "ai", "bot", "android", "cyborg", "computer"),
}


@dataclass(frozen=True)
class Character:
    creature: str  # a key of CREATURES, or "blob"
    colour: RGB
    prop: str | None  # "helmet", "hat", "shades" or None
    glum: bool = False  # a frown instead of a smile


def _darker(colour: RGB, factor: float = 0.6) -> RGB:
    r, g, b = (int(c * factor) for c in colour)
    return (r, g, b)


def _ears(draw: ImageDraw.ImageDraw, c: Character, s: int) -> None:
    """Ears and antennae stick out of the head, so they are drawn before it."""
    outline = _darker(c.colour)
    if c.creature == "cat":
        for left, tip in ((0.12, 0.18), (0.88, 0.82)):
            points = [(s * left, s * 0.45), (s * tip, s * 0.02), (s * 0.5, s * 0.25)]
            draw.polygon(points, fill=c.colour, outline=outline, width=s // 40)
    elif c.creature == "dog":
        for x in (0.02, 0.7):
            draw.ellipse((s * x, s * 0.2, s * (x + 0.28), s * 0.75), fill=outline)
    elif c.creature == "robot":
        draw.line((s * 0.5, s * 0.2, s * 0.5, s * 0.02), fill=outline, width=s // 30)
        draw.ellipse((s * 0.44, 0, s * 0.56, s * 0.1), fill=(255, 60, 60))


def _head(draw: ImageDraw.ImageDraw, c: Character, s: int) -> None:
    outline, width = _darker(c.colour), s // 30
    box = (s * 0.1, s * 0.2, s * 0.9, s * 0.98)
    if c.creature == "robot":
        draw.rounded_rectangle(box, radius=s // 10, fill=c.colour, outline=outline, width=width)
    else:
        draw.ellipse(box, fill=c.colour, outline=outline, width=width)
    if c.creature == "frog":
        # Frog eyes bulge above the head.
        for x in (0.22, 0.58):
            draw.ellipse((s * x, s * 0.1, s * (x + 0.2), s * 0.32), fill=c.colour, outline=outline)


def _face(draw: ImageDraw.ImageDraw, c: Character, s: int, mouth_open: bool) -> None:
    eye_y = 0.2 if c.creature == "frog" else 0.45
    for x in (0.32, 0.68):
        draw.ellipse(
            (s * (x - 0.09), s * (eye_y - 0.09), s * (x + 0.09), s * (eye_y + 0.09)), fill="white"
        )
        draw.ellipse(
            (s * (x - 0.04), s * (eye_y - 0.03), s * (x + 0.04), s * (eye_y + 0.05)), fill="black"
        )
    if c.prop == "shades":
        draw.rectangle((s * 0.2, s * 0.38, s * 0.8, s * 0.5), fill=(20, 20, 20))
    if c.creature in ("cat", "dog"):
        draw.ellipse((s * 0.45, s * 0.58, s * 0.55, s * 0.65), fill=(40, 20, 20))
    if c.creature == "cat":
        for dy in (-0.03, 0.03):
            draw.line((s * 0.05, s * (0.64 + dy), s * 0.3, s * 0.64), fill="black", width=s // 80)
            draw.line((s * 0.7, s * 0.64, s * 0.95, s * (0.64 + dy)), fill="black", width=s // 80)
    if mouth_open:
        draw.ellipse((s * 0.38, s * 0.7, s * 0.62, s * 0.88), fill=(90, 10, 20))
        draw.ellipse((s * 0.44, s * 0.8, s * 0.56, s * 0.88), fill=(230, 90, 110))
    elif c.glum:
        draw.arc((s * 0.35, s * 0.75, s * 0.65, s * 0.95), 200, 340, fill="black", width=s // 40)
    else:
        draw.arc((s * 0.35, s * 0.6, s * 0.65, s * 0.8), 20, 160, fill="black", width=s // 40)


def _prop(draw: ImageDraw.ImageDraw, c: Character, s: int) -> None:
    if c.prop == "hat":
        draw.polygon(
            [(s * 0.35, s * 0.28), (s * 0.65, s * 0.28), (s * 0.5, 0)], fill=(250, 60, 160)
        )
        draw.ellipse((s * 0.46, 0, s * 0.54, s * 0.06), fill=(255, 230, 40))
    elif c.prop == "helmet":
        draw.ellipse((0, 0, s - 1, s - 1), fill=(200, 230, 255, 60), outline="white", width=s // 40)


def character_sprite(character: Character, size: int, *, mouth_open: bool) -> Image.Image:
    """A square RGBA image of the character facing the viewer."""
    s = size * _SUPERSAMPLE
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    _ears(draw, character, s)
    _head(draw, character, s)
    _face(draw, character, s, mouth_open)
    if character.prop == "helmet":
        # Glass is see-through: blend it over the head instead of painting over it.
        glass = Image.new("RGBA", (s, s), (0, 0, 0, 0))
        _prop(ImageDraw.Draw(glass), character, s)
        layer = Image.alpha_composite(layer, glass)
    else:
        _prop(draw, character, s)
    return layer.resize((size, size), Image.Resampling.LANCZOS)


def soft_disc(radius: int, colour: RGB, opacity: float) -> Image.Image:
    """A disc with a soft edge, for the blurry shapes drifting behind the characters."""
    axis = np.arange(2 * radius, dtype=np.float32) - radius + 0.5
    distance = np.sqrt(axis[None, :] ** 2 + axis[:, None] ** 2) / radius
    alpha = np.clip((1.0 - distance) * 4.0, 0.0, 1.0) * (255 * opacity)
    rgba = np.empty((2 * radius, 2 * radius, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = alpha.astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def hills(width: int, height: int, colour: RGB, phase: float) -> Image.Image:
    """Rolling hills twice the frame's width, so sliding them along loops without a seam."""
    x = np.arange(2 * width, dtype=np.float32) / width * 2 * np.pi
    ridge = 0.55 + 0.2 * np.sin(2 * x + phase) + 0.1 * np.sin(5 * x + 2 * phase)
    rows = np.arange(height, dtype=np.float32)[:, None] / height
    alpha = np.where(rows > 1.0 - ridge[None, :], 255, 0).astype(np.uint8)
    rgba = np.empty((height, 2 * width, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = alpha
    return Image.fromarray(rgba, "RGBA")

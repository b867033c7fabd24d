"""Text drawn once with Pillow and reused on every frame: the caption, subtitles, the watermark.

Rendering text per frame is the slow part of a naive renderer; here each piece of text becomes
one RGBA sprite, and frames only paste it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# A bold face reads best over a busy picture. Pillow's bundled font is the fallback, so
# rendering works on a machine without any system fonts.
_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
WHITE = (255, 255, 255, 255)
BLACK = (0, 0, 0, 255)


@functools.lru_cache(maxsize=32)
def load_font(size: int, files: tuple[str, ...] = _FONT_FILES) -> Font:
    """The first of `files` that exists, at `size` pixels; else Pillow's bundled font."""
    for path in files:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def wrap_words(text: str, font: Font, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than a whole line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and font.getlength(current + char) > max_width:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines


def _fit(text: str, *, width: int, size: int, max_lines: int) -> tuple[Font, list[str]]:
    """The largest font (down to half of `size`) that fits the text in `max_lines` lines.

    If even that is too long, the last line ends in an ellipsis: a caption is decoration and
    the full prompt is still in the chat.
    """
    size = max(size, 8)
    for candidate in range(size, max(8, size // 2) - 1, -max(1, size // 10)):
        font = load_font(candidate)
        lines = wrap_words(text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    lines = lines[:max_lines]
    while lines[-1] and font.getlength(lines[-1] + "…") > width:
        lines[-1] = lines[-1][:-1]
    lines[-1] += "…"
    return font, lines


def text_sprite(
    text: str,
    *,
    width: int,
    size: int,
    max_lines: int = 3,
    fill: tuple[int, int, int, int] = WHITE,
    outline: tuple[int, int, int, int] = BLACK,
) -> Image.Image:
    """Centred, word-wrapped, outlined text as an RGBA image `width` pixels wide."""
    stroke = max(1, size // 12)
    font, lines = _fit(text, width=width - 2 * stroke, size=size, max_lines=max_lines)
    ascent, descent = font.getmetrics() if isinstance(font, ImageFont.FreeTypeFont) else (size, 0)
    line_height = ascent + descent + stroke
    sprite = Image.new("RGBA", (width, line_height * len(lines) + 2 * stroke), (0, 0, 0, 0))
    draw = ImageDraw.Draw(sprite)
    for index, line in enumerate(lines):
        x = (width - font.getlength(line)) / 2
        y = stroke + index * line_height
        draw.text((x, y), line, font=font, fill=fill, stroke_width=stroke, stroke_fill=outline)
    return sprite

"""The sketch engine: a deterministic CPU cartoon of the prompt, no model weights.

A hash of prompt and seed picks the palette, the setting and the characters; keywords steer
them ("a cat in space" gets a cat in a space helmet under the stars). Characters bounce on the
soundtrack's beat and move their mouths while their line is spoken; the prompt is the caption
and the current line the subtitle. Everything slow (text, characters, gradients) is drawn once;
each frame is a handful of C-speed crops and pastes in Pillow.
"""

from __future__ import annotations

import colorsys
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from engine.audio import groove_for
from engine.captions import text_sprite
from engine.dialogue import Cue, plan_dialogue
from engine.previews import PREVIEWS_PER_RENDER, offer
from engine.request import ClipDefaults, Rendered, RenderRequest
from engine.sprites import CREATURES, RGB, Character, character_sprite, hills, soft_disc


@dataclass(frozen=True)
class Setting:
    name: str
    keywords: tuple[str, ...]
    sky: tuple[RGB, RGB] | None  # top and bottom colour; None means a seeded palette
    particles: str  # "stars", "confetti", "bubbles", "rain", "sparks" or "dots"
    prop: str | None


SETTINGS = (
    Setting(
        "space",
        ("space", "rocket", "moon", "astronaut", "alien", "galaxy", "mars", "stars"),
        ((4, 4, 24), (50, 20, 90)),
        "stars",
        "helmet",
    ),
    Setting(
        "party",
        ("party", "birthday", "dance", "dancing", "disco", "rave", "celebrate"),
        None,
        "confetti",
        "hat",
    ),
    Setting(
        "ocean",
        ("ocean", "sea", "fish", "beach", "underwater", "shark", "swim", "swimming"),
        ((8, 50, 110), (0, 160, 190)),
        "bubbles",
        None,
    ),
    Setting(
        "rain",
        ("rain", "sad", "monday", "storm", "crying", "cry", "lonely"),
        ((35, 40, 55), (95, 105, 125)),
        "rain",
        None,
    ),
    Setting(
        "fire",
        ("fire", "hot", "lava", "burning", "spicy", "fine", "chaos", "hell"),
        ((70, 10, 0), (245, 125, 25)),
        "sparks",
        "shades",
    ),
)
PLAIN = Setting("plain", (), None, "dots", None)
_MAX_CHARACTERS = 3


@dataclass(frozen=True)
class Scene:
    """Every choice the renderer makes, decided up front from the request."""

    setting: Setting
    sky: tuple[RGB, RGB]
    hill_colour: RGB
    characters: tuple[Character, ...]
    # Who says each dialogue line: an index into `characters`.
    speakers: tuple[int, ...]
    beat_s: float
    seed: int


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _creature(words: set[str]) -> str:
    return next((name for name, keys in CREATURES.items() if words & set(keys)), "blob")


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (round(r * 255), round(g * 255), round(b * 255))


def plan_scene(request: RenderRequest) -> Scene:
    rng = np.random.default_rng(request.seed_for("scene"))
    words = _words(request.prompt)
    setting = next((s for s in SETTINGS if words & set(s.keywords)), PLAIN)
    hue = float(rng.random())
    sky = setting.sky or (_hsv(hue, 0.65, 0.45), _hsv(hue + 0.12, 0.45, 0.95))
    names = list(dict.fromkeys(line.speaker for line in request.dialogue))[:_MAX_CHARACTERS]
    names = names or [None]
    characters = []
    for index, name in enumerate(names):
        # A speaker called "Cat" is a cat whatever the prompt says; others follow the prompt.
        creature = _creature(_words(name or "")) if name else "blob"
        if creature == "blob":
            creature = _creature(words)
        colour = _hsv(hue + 0.45 + 0.25 * index + 0.1 * float(rng.random()), 0.6, 0.95)
        characters.append(Character(creature, colour, setting.prop, glum=setting.name == "rain"))
    speakers = tuple(
        names.index(line.speaker) if line.speaker in names else 0 for line in request.dialogue
    )
    return Scene(
        setting=setting,
        sky=sky,
        hill_colour=_hsv(hue + 0.3, 0.5, 0.35),
        characters=tuple(characters),
        speakers=speakers,
        beat_s=groove_for(request).beat_s,
        seed=request.seed_for("motion"),
    )


@dataclass(frozen=True)
class Disc:
    """A soft disc drifting on a slow ellipse; positions are fractions of the frame."""

    image: Image.Image
    x: float
    y: float
    speed: float  # turns per second
    phase: float


@dataclass(frozen=True)
class Layers:
    """What is drawn once per clip, before the first frame."""

    sky: Image.Image  # twice the frame's height: frames look through a sliding window
    hills: Image.Image
    discs: tuple[Disc, ...]
    bodies: tuple[tuple[Image.Image, Image.Image], ...]  # each character, mouth shut and open
    particles: np.ndarray  # (n, 4): x, y in 0..1, speed, size
    caption: Image.Image
    subtitles: tuple[Image.Image, ...]


def _sky(scene: Scene, width: int, height: int) -> Image.Image:
    """Top colour to bottom colour and back, so sliding the window down loops smoothly."""
    rows = np.linspace(0.0, 2 * np.pi, 2 * height, endpoint=False, dtype=np.float32)
    mix = (1 - np.cos(rows)) / 2
    top, bottom = np.array(scene.sky[0], np.float32), np.array(scene.sky[1], np.float32)
    column = (top * (1 - mix[:, None]) + bottom * mix[:, None]).astype(np.uint8)
    return Image.fromarray(
        np.ascontiguousarray(np.broadcast_to(column[:, None], (2 * height, width, 3)))
    )


def prepare_layers(request: RenderRequest, scene: Scene, cues: tuple[Cue, ...]) -> Layers:
    w, h = request.width, request.height
    rng = np.random.default_rng(scene.seed)
    size = round(min(w, h) * (0.36 if len(scene.characters) == 1 else 0.28))
    bodies = tuple(
        (character_sprite(c, size, mouth_open=False), character_sprite(c, size, mouth_open=True))
        for c in scene.characters
    )
    discs = []
    for _ in range(4):
        red, green, blue = (int(v) for v in rng.integers(120, 256, 3))
        radius = max(4, round(min(w, h) * float(rng.uniform(0.08, 0.2))))
        image = soft_disc(radius, (red, green, blue), 0.35)
        x, y, speed, phase = (float(v) for v in rng.random(4))
        discs.append(Disc(image, x, y * 0.6, 0.05 + 0.15 * speed, phase * 2 * math.pi))
    particles = rng.random((40, 4)).astype(np.float32)
    text_size = max(10, round(min(w, h) / 12))
    subtitles = tuple(
        text_sprite(
            f"{c.line.speaker}: {c.line.text}" if c.line.speaker else c.line.text,
            width=w - w // 10,
            size=max(9, round(min(w, h) / 15)),
            max_lines=2,
            fill=(255, 240, 90, 255),
        )
        for c in cues
    )
    return Layers(
        sky=_sky(scene, w, h),
        hills=hills(w, h // 3, scene.hill_colour, float(rng.random()) * 6.28),
        discs=tuple(discs),
        bodies=bodies,
        particles=particles,
        caption=text_sprite(request.prompt, width=w - w // 10, size=text_size, max_lines=3),
        subtitles=subtitles,
    )


def _draw_particles(
    draw: ImageDraw.ImageDraw, kind: str, p: np.ndarray, t: float, w: int, h: int
) -> None:
    """Particles drift by formula, not by simulation, so any frame can be drawn on its own."""
    unit = max(1.0, min(w, h) / 128)
    fall = {"rain": 1.5, "confetti": 0.25, "bubbles": -0.2, "sparks": -0.35}.get(kind, 0.03)
    xs = (p[:, 0] + 0.02 * np.sin(t * 2 + p[:, 2] * 6)) * w
    ys = ((p[:, 1] + t * fall * (0.5 + p[:, 2])) % 1.0) * h
    sizes = (1 + p[:, 3] * 2) * unit
    for x, y, r, spin in zip(
        xs.tolist(), ys.tolist(), sizes.tolist(), p[:, 2].tolist(), strict=True
    ):
        if kind == "stars":
            level = int(160 + 95 * math.sin(t * 5 + spin * 20))  # twinkle
            draw.ellipse((x - r / 2, y - r / 2, x + r / 2, y + r / 2), fill=(level, level, 255))
        elif kind == "rain":
            draw.line((x, y, x - r, y + 4 * r), fill=(170, 190, 230), width=max(1, int(unit)))
        elif kind == "confetti":
            colour = (255, int(80 + 170 * spin), int(250 * (1 - spin)))
            draw.rectangle((x, y, x + 2 * r, y + r * abs(math.sin(t * 6 + spin * 9)) + 1), colour)
        elif kind == "bubbles":
            draw.ellipse((x - r, y - r, x + r, y + r), outline=(220, 245, 255), width=1)
        else:
            colour = (255, 200, 60) if kind == "sparks" else (255, 255, 255)
            draw.ellipse((x - r / 3, y - r / 3, x + r / 3, y + r / 3), fill=colour)


def _place_characters(
    frame: Image.Image, scene: Scene, layers: Layers, t: float, talker: int
) -> None:
    """One hop per beat, squashed on landing; the one speaking flaps its mouth."""
    w, h = frame.size
    ground = h - h // 7
    count = len(layers.bodies)
    for index, (shut, open_) in enumerate(layers.bodies):
        phase = (t / scene.beat_s + 0.5 * index) % 1.0
        lift = math.sin(math.pi * phase)
        squash = max(0.0, 1.0 - 5.0 * lift)
        sprite = open_ if index == talker and int(t * 10) % 2 == 0 else shut
        size = sprite.width
        if squash > 0:
            sprite = sprite.resize(
                (round(size * (1 + 0.15 * squash)), round(size * (1 - 0.15 * squash))),
                Image.Resampling.BILINEAR,
            )
        sway = math.sin(2 * math.pi * t / (4 * scene.beat_s) + index) * w * 0.06
        x = w * (index + 1) / (count + 1) + sway - sprite.width / 2
        y = ground - lift * h * 0.12 - sprite.height
        frame.paste(sprite, (round(x), round(y)), sprite)


def _punch_in(frame: Image.Image, scene: Scene, t: float) -> Image.Image:
    """A quick zoom on each bar's downbeat, easing back: the classic meme-edit beat hit."""
    zoom = 1.0 + 0.07 * math.exp(-8.0 * (t % (4 * scene.beat_s)))
    if zoom < 1.004:
        return frame
    w, h = frame.size
    dx, dy = w * (1 - 1 / zoom) / 2, h * (1 - 1 / zoom) / 2
    return frame.resize((w, h), Image.Resampling.BILINEAR, box=(dx, dy, w - dx, h - dy))


def render_frame(
    request: RenderRequest, scene: Scene, layers: Layers, cues: tuple[Cue, ...], index: int
) -> Image.Image:
    w, h = request.width, request.height
    t = index / request.fps
    # The sky drifts one full cycle every 8 seconds.
    offset = round((t / 8.0 % 1.0) * h)
    frame = layers.sky.crop((0, offset, w, offset + h))
    _draw_particles(ImageDraw.Draw(frame), scene.setting.particles, layers.particles, t, w, h)
    for disc in layers.discs:
        turn = 2 * math.pi * disc.speed * t + disc.phase
        cx = (disc.x + 0.15 * math.sin(turn)) * w - disc.image.width / 2
        cy = (disc.y + 0.1 * math.cos(1.3 * turn)) * h - disc.image.height / 2
        frame.paste(disc.image, (round(cx), round(cy)), disc.image)
    shift = round(t * w * 0.08) % w
    frame.paste(layers.hills, (-shift, h - layers.hills.height), layers.hills)
    speaking = [i for i, cue in enumerate(cues) if cue.speak_at_s <= t < cue.speak_until_s]
    talker = scene.speakers[speaking[0]] if speaking else -1
    _place_characters(frame, scene, layers, t, talker)
    frame = _punch_in(frame, scene, t)
    # Text goes on after the zoom so it stays put and sharp.
    frame.paste(layers.caption, ((w - layers.caption.width) // 2, h // 30), layers.caption)
    for cue, subtitle in zip(cues, layers.subtitles, strict=True):
        if cue.active(t):
            frame.paste(
                subtitle, ((w - subtitle.width) // 2, h - subtitle.height - h // 14), subtitle
            )
    return frame


class SketchBackend:
    """The `VideoBackend` that draws cartoons on the CPU."""

    name = "sketch"
    defaults = ClipDefaults(width=512, height=512, fps=24, frames=120)

    def render(self, request: RenderRequest, on_progress: Callable[[int, int], None]) -> Rendered:
        # No audio of its own: the pipeline scores the cartoon with the synthesized music.
        return Rendered(self.render_frames(request, on_progress))

    def render_frames(
        self, request: RenderRequest, on_progress: Callable[[int, int], None]
    ) -> np.ndarray:
        scene = plan_scene(request)
        cues = plan_dialogue(request)
        layers = prepare_layers(request, scene, cues)
        count = request.frame_count
        frames = np.empty((count, request.height, request.width, 3), dtype=np.uint8)
        # Report about 20 times whatever the length: often enough for a status bar, no more.
        chunk = max(1, math.ceil(count / 20))
        steps = math.ceil(count / chunk)
        # A frame just drawn is a free preview: offer one a few times per clip.
        every, next_preview = max(1, math.ceil(count / PREVIEWS_PER_RENDER)), 0
        for index in range(count):
            frames[index] = np.asarray(render_frame(request, scene, layers, cues, index))
            if (index + 1) % chunk == 0 or index + 1 == count:
                if index >= next_preview:
                    next_preview += every
                    offer(on_progress, frames[index])
                on_progress(math.ceil((index + 1) / chunk), steps)
        return frames

"""The moving watermark: every quarter of the frame shows it for a while, it keeps clear of the
caption and the subtitles, reads on light and dark scenes, and the seed decides where it goes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.dialogue import plan_dialogue
from engine.encode import decode_video, encode_mp4
from engine.request import CameoRef, Line, RenderRequest
from engine.sketch import SketchBackend, plan_scene, prepare_layers
from engine.watermark import (
    apply_watermark,
    featuring_text,
    label,
    plan_placements,
    text_zone,
    watermark_text,
)
from tests.engine.factories import never

LONG_PROMPT = (
    "a cat DJ at a rooftop party in the rain with neon lights and a crowd of dancing robots "
    "who all want pizza and a very long caption that wraps onto three full lines or more"
)


def request(**changes: object) -> RenderRequest:
    values: dict[str, object] = {
        "prompt": "a cat DJ at a rooftop party",
        "seed": 7,
        "width": 256,
        "height": 256,
        "fps": 12,
        "duration_s": 5.0,
        "author": "@alice",
        "job_id": "job-wm",
    }
    values.update(changes)
    return RenderRequest(**values)  # type: ignore[arg-type]


def quarters(width: int, height: int) -> dict[str, tuple[slice, slice]]:
    top, left = slice(0, height // 2), slice(0, width // 2)
    bottom, right = slice(height // 2, height), slice(width // 2, width)
    return {
        "top left": (top, left),
        "top right": (top, right),
        "bottom left": (bottom, left),
        "bottom right": (bottom, right),
    }


def test_every_quarter_of_the_encoded_clip_shows_the_mark_for_a_second_or_more() -> None:
    req = request()
    plain = SketchBackend().render_frames(req, never)
    marked = plain.copy()
    apply_watermark(marked, req)
    decoded = decode_video(encode_mp4(marked, None, fps=req.fps, sample_rate=48_000))
    # The encoder blurs the scene a little everywhere; the mark changes pixels a lot.
    changed = np.abs(decoded.astype(np.int16) - plain.astype(np.int16)).max(axis=3) > 80
    for name, (rows, cols) in quarters(req.width, req.height).items():
        frames_showing = int((changed[:, rows, cols].sum(axis=(1, 2)) > 30).sum())
        assert frames_showing >= req.fps, f"the {name} quarter shows the mark too briefly"


@pytest.mark.parametrize(("width", "height"), [(512, 512), (768, 512), (512, 768), (128, 128)])
def test_the_mark_never_covers_the_caption_or_the_subtitles(width: int, height: int) -> None:
    lines = (
        Line("I can haz the last slice of pizza before the robots eat it all?", "Cat"),
        Line("No, the robots have already ordered seven more of them for you.", "Dog"),
    )
    req = request(
        prompt=LONG_PROMPT,
        width=width,
        height=height,
        duration_s=10.0,
        dialogue=lines,
        cameos=(CameoRef(1, "@bob"), CameoRef(2, "@carol_with_a_long_name")),
    )
    layers = prepare_layers(req, plan_scene(req), plan_dialogue(req))
    caption_bottom = height // 30 + layers.caption.height
    subtitle_top = min(height - s.height - height // 14 for s in layers.subtitles)
    top, bottom = text_zone(width, height)
    assert caption_bottom <= top and bottom <= subtitle_top
    mark = label(
        watermark_text(req.author), featuring_text(("@bob", "@carol")), width=width, height=height
    )
    for place in plan_placements(req, req.frame_count, mark.shape[:2]):
        assert place.y >= caption_bottom
        assert place.y + mark.shape[0] <= subtitle_top
        assert place.x >= 0 and place.x + mark.shape[1] <= width


def test_the_mark_reads_on_white_and_on_black() -> None:
    req = request(duration_s=1.0)
    for shade in (0, 255):
        frames = np.full((req.frame_count, req.height, req.width, 3), shade, np.uint8)
        apply_watermark(frames, req)
        values = frames[0].mean(axis=2)
        # Light letters on black, dark outlines on white: a good share of strong contrast.
        assert (np.abs(values - shade) > 150).sum() > 150


def test_same_seed_same_places_and_another_seed_moves_it() -> None:
    size = (20, 100)
    first = plan_placements(request(), 60, size)
    assert first == plan_placements(request(), 60, size)
    assert first != plan_placements(request(seed=8), 60, size)
    # It moves: consecutive places differ, and the clip is covered frame by frame.
    assert all((a.x, a.y) != (b.x, b.y) for a, b in itertools.pairwise(first))
    assert first[0].start == 0 and first[-1].stop == 60
    assert all(a.stop == b.start for a, b in itertools.pairwise(first))


def test_the_label_names_the_author_and_the_cameos() -> None:
    assert watermark_text("  alice \n") == "clipcrew · alice"
    assert watermark_text("") == "clipcrew"
    assert featuring_text(("@bob", "@carol")) == "featuring @bob, @carol"
    assert featuring_text(()) == ""
    alone = label("clipcrew · @alice", width=512, height=512)
    with_cameos = label("clipcrew · @alice", "featuring @bob", width=512, height=512)
    assert with_cameos.shape[0] > alone.shape[0] * 1.5
    assert with_cameos.shape[1] <= 256

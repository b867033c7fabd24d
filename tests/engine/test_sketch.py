from dataclasses import replace

import numpy as np
from PIL import ImageFont

from engine.backends import load_backend
from engine.captions import load_font, text_sprite, wrap_words
from engine.dialogue import plan_dialogue
from engine.sketch import SketchBackend, plan_scene, prepare_layers, render_frame
from tests.engine.factories import never, small_request, talking_request


def test_frames_have_the_requested_shape_and_report_progress() -> None:
    request = small_request()
    seen: list[tuple[int, int]] = []
    frames = SketchBackend().render_frames(request, lambda step, steps: seen.append((step, steps)))
    assert frames.shape == (request.frame_count, 128, 128, 3)
    assert frames.dtype == np.uint8
    assert seen[-1][0] == seen[-1][1]
    assert [step for step, _ in seen] == sorted(step for step, _ in seen)


def test_same_prompt_and_seed_render_identical_frames() -> None:
    first = SketchBackend().render_frames(small_request(), never)
    second = SketchBackend().render_frames(small_request(), never)
    assert np.array_equal(first, second)


def test_another_seed_or_prompt_renders_different_frames() -> None:
    base = SketchBackend().render_frames(small_request(seed=1), never)
    assert not np.array_equal(base, SketchBackend().render_frames(small_request(seed=2), never))
    other = SketchBackend().render_frames(small_request(prompt="a dog at a party"), never)
    assert not np.array_equal(base, other)


def test_frames_change_over_time() -> None:
    frames = SketchBackend().render_frames(small_request(), never).astype(np.int16)
    assert np.abs(frames[0] - frames[-1]).mean() > 2
    moving = [np.abs(frames[i + 1] - frames[i]).max() > 0 for i in range(len(frames) - 1)]
    assert all(moving)


def test_keywords_pick_the_setting_and_creatures() -> None:
    scene = plan_scene(small_request(prompt="A CAT in space!"))
    assert scene.setting.name == "space"
    assert [c.creature for c in scene.characters] == ["cat"]
    assert plan_scene(small_request(prompt="birthday party")).setting.name == "party"
    assert plan_scene(small_request(prompt="a quiet afternoon")).setting.name == "plain"


def test_each_speaker_is_a_character_and_a_named_one_is_its_creature() -> None:
    scene = plan_scene(talking_request(prompt="two friends"))
    assert [c.creature for c in scene.characters] == ["cat", "dog"]
    assert scene.speakers == (0, 1)


def test_subtitle_shows_while_its_line_is_spoken() -> None:
    request = talking_request()
    scene, cues = plan_scene(request), plan_dialogue(request)
    layers = prepare_layers(request, scene, cues)
    index = round((cues[0].start_s + cues[0].end_s) / 2 * request.fps)
    with_line = np.asarray(render_frame(request, scene, layers, cues, index), dtype=np.int16)
    silent = replace(layers, subtitles=())
    without = np.asarray(render_frame(request, scene, silent, (), index), dtype=np.int16)
    changed_rows = np.flatnonzero(np.abs(with_line - without).sum(axis=(1, 2)))
    # The subtitle sits in the lower part of the frame.
    assert changed_rows.size and changed_rows.max() > request.height // 2


def test_long_words_wrap_and_long_captions_end_in_an_ellipsis() -> None:
    font = load_font(20)
    lines = wrap_words("a " + "x" * 60, font, 100)
    assert all(font.getlength(line) <= 100 for line in lines)
    sprite = text_sprite("word " * 200, width=120, size=20, max_lines=2)
    assert sprite.width == 120 and sprite.height < 80


def test_text_renders_without_system_fonts() -> None:
    font = load_font(24, files=())
    assert isinstance(font, ImageFont.FreeTypeFont | ImageFont.ImageFont)
    assert text_sprite("hello", width=100, size=24).getbbox() is not None


def test_load_backend_gives_the_sketch_engine() -> None:
    assert load_backend("sketch").name == "sketch"


def test_the_sketch_engine_makes_no_audio_of_its_own() -> None:
    rendered = SketchBackend().render(small_request(duration_s=0.5), never)
    assert rendered.audio is None and rendered.sample_rate is None
    assert rendered.frames.shape == (6, 128, 128, 3)

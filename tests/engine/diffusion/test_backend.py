"""The diffusers backend through its real loading code, on a tiny random-weight Wan pipeline
that the tests build offline and save to disk (no model hub, CPU only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the engine extra is not installed")

from engine.backends import load_backend
from engine.diffusion.backend import DiffusersBackend, DiffusionOptions
from engine.encode import probe_mp4
from engine.pipeline import generate
from engine.request import BadRequest, Cancelled, EngineError, RenderRequest
from tests.engine.diffusion.tiny import build_tiny_wan, tiny_request


@pytest.fixture(scope="module")
def wan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_wan(tmp_path_factory.mktemp("tiny-wan"))


@pytest.fixture(scope="module")
def backend(wan_folder: Path) -> DiffusersBackend:
    loaded = load_backend("diffusers", DiffusionOptions(model=str(wan_folder), device="cpu"))
    assert isinstance(loaded, DiffusersBackend)
    return loaded


def request(**changes: object) -> RenderRequest:
    return tiny_request(**changes)  # type: ignore[no-any-return]


def test_the_family_is_recognised_from_the_loaded_pipeline(backend: DiffusersBackend) -> None:
    assert backend.family.name == "Wan" and backend.device == "cpu"


def test_frames_have_the_asked_shape_and_progress_counts_steps(backend: DiffusersBackend) -> None:
    steps: list[tuple[int, int]] = []
    frames = backend.render(request(steps=3), lambda i, n: steps.append((i, n))).frames
    assert frames.shape == (9, 64, 64, 3) and frames.dtype == np.uint8
    assert steps == [(1, 3), (2, 3), (3, 3)]


def test_same_seed_same_frames_and_another_seed_differs(backend: DiffusersBackend) -> None:
    first = backend.render(request(), lambda i, n: None).frames
    again = backend.render(request(), lambda i, n: None).frames
    other = backend.render(request(seed=4), lambda i, n: None).frames
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"frames": 10}, "10"), ({"width": 72}, "72"), ({"height": 40}, "40"), ({"steps": 0}, "0")],
)
def test_values_outside_the_family_are_refused_by_name(
    backend: DiffusersBackend, changes: dict[str, object], named: str
) -> None:
    with pytest.raises(BadRequest, match=named):
        backend.render(request(**changes), lambda i, n: None)


def test_cancelling_sets_the_interrupt_flag_and_stops(backend: DiffusersBackend) -> None:
    seen: list[int] = []

    def cancel_at_first_step(step: int, steps: int) -> None:
        seen.append(step)
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        backend.render(request(steps=4), cancel_at_first_step)
    assert seen == [1]  # diffusers ran no further step after the flag was set


def test_the_whole_pipeline_makes_an_mp4_with_sound(backend: DiffusersBackend) -> None:
    clip = generate(request(), backend)
    probe = probe_mp4(clip.data)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    assert (probe.width, probe.height, probe.frames) == (64, 64, 9)
    assert clip.engine == "diffusers"


def test_missing_model_setting_and_unloadable_model_are_readable_errors(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="CLIPCREW_VIDEO_MODEL"):
        load_backend("diffusers", None)
    with pytest.raises(EngineError, match="Could not load the video model"):
        load_backend("diffusers", DiffusionOptions(model=str(tmp_path / "nothing-here")))


def test_two_jobs_never_denoise_at_once_on_one_device(backend: DiffusersBackend) -> None:
    import threading

    inside, most = 0, 0
    guard = threading.Lock()

    def count(step: int, steps: int) -> None:
        nonlocal inside, most
        with guard:
            inside += 1 if step == 1 else 0
            most = max(most, inside)
            inside -= 1 if step == steps else 0

    threads = [
        threading.Thread(target=backend.render, args=(request(seed=s), count)) for s in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1

"""The diffusers engine's previews: a rough picture from the latents every few steps, through
the real loading code on a tiny random-weight Wan pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the engine extra is not installed")

from engine.backends import load_backend
from engine.diffusion.backend import DiffusersBackend, DiffusionOptions
from tests.engine.diffusion.tiny import build_tiny_wan, tiny_request
from tests.engine.factories import Collecting


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> DiffusersBackend:
    folder: Path = build_tiny_wan(tmp_path_factory.mktemp("tiny-wan"))
    loaded = load_backend("diffusers", DiffusionOptions(model=str(folder), device="cpu"))
    assert isinstance(loaded, DiffusersBackend)
    return loaded


def test_previews_come_from_the_latents_every_few_steps(backend: DiffusersBackend) -> None:
    collecting = Collecting()
    backend.render(tiny_request(steps=8), collecting)
    assert collecting.steps == [(i, 8) for i in range(1, 9)]
    # Every second step of eight, but not the last (the clip itself follows at once).
    assert len(collecting.frames) == 3
    assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in collecting.frames)

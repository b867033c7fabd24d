from __future__ import annotations

import pytest

from engine.backends import load_backend
from engine.encode import ClipTooLarge, probe_mp4
from engine.fit import fit_clip
from engine.pipeline import generate
from tests.engine.factories import small_request


@pytest.fixture(scope="module")
def clip() -> bytes:
    return generate(small_request(duration_s=2.0), load_backend("sketch")).data


def test_a_clip_that_fits_is_returned_untouched(clip: bytes) -> None:
    assert fit_clip(clip, len(clip)) is clip


def test_a_clip_over_the_limit_is_re_encoded_under_it_keeping_what_it_shows(clip: bytes) -> None:
    limit = len(clip) * 8 // 10
    fitted = fit_clip(clip, limit)
    assert len(fitted) <= limit
    before, after = probe_mp4(clip), probe_mp4(fitted)
    assert (after.video_codec, after.audio_codec) == ("h264", "aac")
    assert (after.width, after.height, after.frames) == (before.width, before.height, before.frames)
    assert after.metadata["clipcrew_job_id"] == before.metadata["clipcrew_job_id"]


def test_an_impossible_limit_is_a_readable_error(clip: bytes) -> None:
    with pytest.raises(ClipTooLarge) as refused:
        fit_clip(clip, 500)
    assert str(refused.value)

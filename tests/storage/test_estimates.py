"""Estimates from measured durations (storage.estimates): medians per clip shape, finish times
as workers free up, and the time left while a clip renders."""

from __future__ import annotations

import pytest

from storage.estimates import Shape, durations_from, finish_times, time_left


def test_estimates_are_medians_per_shape_with_the_pool_as_fallback() -> None:
    small = Shape("sketch", 64, 64, 8, 1.0)
    big = Shape("sketch", 512, 512, 24, 5.0)
    durations = durations_from([(small, 2.0), (small, 4.0), (small, 90.0), (big, 30.0)])
    assert durations.of(small) == 4.0  # one slow outlier does not move a median
    assert durations.of(Shape("sketch", 128, 128, 8, 1.0)) == pytest.approx(17.0)
    assert durations.of(Shape("diffusers", None, None, None, None)) is None


def test_finish_times_fill_the_workers_as_they_free_up() -> None:
    # Two workers, 10 s and 30 s left: the queued 20 s jobs finish at 30, 50 and 50.
    assert finish_times([10.0, 30.0], [20.0, 20.0, 20.0]) == [30.0, 50.0, 50.0]
    assert finish_times([], [5.0, 5.0]) == [5.0, 10.0]
    assert finish_times([None], [5.0]) == [None]
    assert finish_times([], [5.0, None, 5.0]) == [5.0, None, None]


def test_time_left_moves_from_the_estimate_to_the_render_pace() -> None:
    assert time_left(elapsed_s=10, fraction=0.0, estimate_s=60) == 50
    assert time_left(elapsed_s=10, fraction=0.5, estimate_s=None) == 10
    both = time_left(elapsed_s=30, fraction=0.5, estimate_s=100)
    assert both is not None and 30 < both < 70
    assert time_left(elapsed_s=1, fraction=0.01, estimate_s=None) is None

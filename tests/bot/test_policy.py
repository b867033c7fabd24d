"""Chat policies as tables (bot.policy): every preset covers every category, what each preset
refuses always, what a consenting cameo lifts, and the strict default with its refusal words."""

from __future__ import annotations

import pytest

from bot.policy import ChatRules, refusal_text, rules_of
from engine.api import (
    ADULT,
    ALLOWED,
    CATEGORIES,
    GRAPHIC_VIOLENCE,
    PRESET_NAMES,
    PRESETS,
    PUBLIC_FIGURE,
    SEXUAL,
    SEXUAL_MINORS,
    STANDARD,
    STRICT,
)


def test_every_preset_has_every_category_and_the_nudity_check() -> None:
    assert set(PRESET_NAMES) == set(PRESETS)
    for thresholds in PRESETS.values():
        assert set(CATEGORIES) <= set(thresholds)


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_minors_and_public_figures_are_refused_in_every_preset(preset: str) -> None:
    thresholds = ChatRules(preset=preset).thresholds
    assert thresholds[SEXUAL_MINORS] < ALLOWED
    assert thresholds[SEXUAL_MINORS] <= min(thresholds[c] for c in CATEGORIES)
    assert thresholds[PUBLIC_FIGURE] < ALLOWED


def test_only_adult_allows_sexual_content() -> None:
    allowed = {name for name in PRESET_NAMES if ChatRules(preset=name).thresholds[SEXUAL] >= 1}
    assert allowed == {ADULT}


def test_a_consenting_cameo_lifts_only_the_public_figure_category() -> None:
    rules = ChatRules(preset=STANDARD)
    lifted = rules.thresholds_for(consenting_cameos=True)
    assert PUBLIC_FIGURE not in lifted
    assert {k: v for k, v in rules.thresholds.items() if k != PUBLIC_FIGURE} == lifted


def test_a_chat_without_a_row_is_strict_and_refusals_name_the_category() -> None:
    from bot.policy import Budget

    assert rules_of(None, Budget()).preset == STRICT
    assert refusal_text(GRAPHIC_VIOLENCE) == (
        "I can't make clips with graphic violence or gore in this chat."
    )

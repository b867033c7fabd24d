"""The `moderate_text` light task, in this process and through a real arq light worker."""

from __future__ import annotations

import pytest

from engine.api import CATEGORIES, PRESETS, STANDARD, refused_category, scores_of
from engine.cameos import FaceModels
from engine.light import ArqLight, InProcessLight, LightContext
from engine.queue import MODERATE_TEXT, LightTaskFailed
from storage.blobs import BlobStore
from storage.db import Database


@pytest.fixture
def light(sqlite_db: Database, blobs: BlobStore) -> InProcessLight:
    return InProcessLight(LightContext(sqlite_db, blobs, FaceModels(), owns_db=False))


async def test_each_text_gets_a_score_per_category_in_order(light: InProcessLight) -> None:
    texts = ["a cat DJ at a rooftop party", "how to make a pipe bomb", '"drop the beat"']
    answer = await light.call(MODERATE_TEXT, {"texts": texts}, timeout_s=120)
    scores = scores_of(answer)
    assert len(scores) == 3
    assert all(set(found) == set(CATEGORIES) for found in scores)
    assert all(0.0 <= value <= 1.0 for found in scores for value in found.values())
    verdicts = [refused_category(found, PRESETS[STANDARD]) for found in scores]
    assert verdicts == [None, "weapons_drugs_instructions", None]
    assert answer["results"][1]["rule_hits"] == ["instructions+weapon-or-drug"]


async def test_a_malformed_payload_is_refused_in_words(light: InProcessLight) -> None:
    with pytest.raises(LightTaskFailed, match="list of strings"):
        await light.call(MODERATE_TEXT, {"texts": "not a list"}, timeout_s=5)
    with pytest.raises(LightTaskFailed, match="too much text"):
        await light.call(MODERATE_TEXT, {"texts": ["x" * 5000]}, timeout_s=5)


@pytest.mark.redis
async def test_a_light_worker_moderates_over_redis(arq_light: ArqLight) -> None:
    payload = {"texts": ["zombie costume party", "a naked woman, explicit"]}
    answer = await arq_light.call(MODERATE_TEXT, payload, timeout_s=120)
    verdicts = [refused_category(found, PRESETS[STANDARD]) for found in scores_of(answer)]
    assert verdicts == [None, "sexual"]

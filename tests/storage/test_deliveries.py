"""Delivery claims (storage.deliveries): one poster per clip and chat, a claim released or taken
over before the clip is sent, never after; on SQLite and PostgreSQL."""

from __future__ import annotations

from storage import deliveries
from storage.db import Database
from tests.factories import make_clip, make_job


async def test_delivery_claim_is_exclusive_and_release_reopens_it(any_db: Database) -> None:
    job = await make_job(any_db)
    clip = await make_clip(any_db, job)
    assert clip.id is not None
    key = deliveries.Target(clip_id=clip.id, platform="test", platform_chat_id="c1")

    async def claim(by: str) -> bool:
        async with any_db.transaction() as session:
            return await deliveries.claim(session, key, claimant=by)

    assert await claim("bot-a")
    assert not await claim("bot-a")  # the same process does not post twice
    async with any_db.transaction() as session:
        await deliveries.release(session, key)
    assert await claim("bot-a")
    # A restarted bot (another claimant) may take over a claim that never got to SENT...
    assert await claim("bot-b")
    async with any_db.transaction() as session:
        await deliveries.mark_sent(session, key, message_id="m9")
    # ...but nobody posts a SENT clip again.
    assert not await claim("bot-c")
    async with any_db.session() as session:
        found = await deliveries.clip_at_message(
            session, platform="test", platform_chat_id="c1", message_id="m9"
        )
        assert found is not None and found.id == clip.id
        assert await deliveries.sent_count(session, clip.id) == 1


async def test_claim_many_claims_each_target_once(any_db: Database) -> None:
    job = await make_job(any_db)
    clip = await make_clip(any_db, job)
    assert clip.id is not None
    a = deliveries.Target(clip.id, "test", "c1")
    b = deliveries.Target(clip.id, "test", "c2")
    async with any_db.transaction() as session:
        assert await deliveries.claim_many(session, [a, b, a], claimant="bot") == [
            True,
            True,
            False,
        ]
    async with any_db.transaction() as session:
        await deliveries.mark_sent_many(session, [(a, "m1")])
    async with any_db.transaction() as session:
        # a is sent: nobody again; b is mid-upload by "bot": another process may take it over.
        assert await deliveries.claim_many(session, [a, b], claimant="bot-2") == [False, True]

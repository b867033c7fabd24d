"""People as the chats name them (storage.people): one row per person, following renames, even
when their first messages arrive at once; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from storage.db import Database
from storage.people import upsert_user


async def test_upsert_user_is_one_row_and_follows_renames(any_db: Database) -> None:
    async with any_db.transaction() as session:
        a = await upsert_user(session, platform="p", platform_user_id="1", display_name="A")
    async with any_db.transaction() as session:
        b = await upsert_user(
            session, platform="p", platform_user_id="1", display_name="B", username="bee"
        )
    assert a.id == b.id and (b.display_name, b.username) == ("B", "bee")


async def test_concurrent_first_messages_make_one_user(any_db: Database) -> None:
    async def first_message() -> int:
        async with any_db.transaction() as session:
            user = await upsert_user(
                session, platform="p", platform_user_id="same", display_name="Same"
            )
            assert user.id is not None
            return user.id

    ids = await asyncio.gather(*(first_message() for _ in range(5)))
    assert len(set(ids)) == 1

from sqlalchemy import inspect

from storage.db import Database
from storage.migrate import pending_changes, upgrade


async def test_upgrade_from_empty_creates_every_table(any_db: Database) -> None:
    async with any_db.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert {"users", "chats", "jobs", "clips", "deliveries", "alembic_version"} <= names


async def test_autogenerate_finds_nothing_to_change(any_db: Database) -> None:
    assert await pending_changes(any_db) == []


async def test_upgrade_twice_is_a_no_op(any_db: Database) -> None:
    await upgrade(any_db)
    assert await pending_changes(any_db) == []

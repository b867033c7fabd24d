from pathlib import Path

from sqlalchemy import inspect

from storage.db import Database, connect
from storage.migrate import HEAD, current_revision, pending_changes, script_head, upgrade


async def test_upgrade_from_empty_creates_every_table(any_db: Database) -> None:
    async with any_db.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert {"users", "chats", "jobs", "clips", "deliveries", "alembic_version"} <= names


async def test_autogenerate_finds_nothing_to_change(any_db: Database) -> None:
    assert await pending_changes(any_db) == []


async def test_upgrade_twice_is_a_no_op(any_db: Database) -> None:
    await upgrade(any_db)
    assert await pending_changes(any_db) == []


def test_head_constant_matches_the_newest_migration() -> None:
    # storage.migrate.HEAD lets start-up skip alembic; it must name the real newest revision.
    assert script_head() == HEAD


async def test_current_revision_is_none_when_empty_and_head_after_upgrade(tmp_path: Path) -> None:
    database = connect(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await current_revision(database) is None
        await upgrade(database)
        assert await current_revision(database) == HEAD
    finally:
        await database.close()

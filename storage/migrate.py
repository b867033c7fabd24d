"""Running alembic from code, so `clipcrew db upgrade` and the tests need no alembic.ini.

alembic is imported only when there is something to do: a bot that starts on an up-to-date
database (every start but the first) checks one row and saves the ~0.2 s alembic's import costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

import storage.models  # noqa: F401  (registers the tables)
from storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in storage/migrations/versions; a test keeps the two in step.
HEAD = "0006"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would eat a '%' in a password.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def script_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(database: Database) -> str | None:
    """The revision the database is at; None for an empty database."""
    try:
        async with database.engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return result.scalar_one_or_none()
    except DBAPIError:
        return None


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent: at head it does nothing)."""
    if revision == "head" and await current_revision(database) == HEAD:
        return
    from alembic import command

    config = alembic_config(database.url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def pending_changes(database: Database) -> list[object]:
    """What autogenerate would still write: empty when the migrations match the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    async with database.engine.connect() as connection:
        return await connection.run_sync(diff)

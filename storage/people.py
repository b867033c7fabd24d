"""Users and chats: rows are created the first time a platform shows them to us."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import insert, tuple_, update
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Chat, User, utcnow

Row = TypeVar("Row", User, Chat)


async def upsert_user(
    session: AsyncSession,
    *,
    platform: str,
    platform_user_id: str,
    display_name: str,
    username: str | None = None,
) -> User:
    found = (
        await session.exec(
            select(User).where(User.platform == platform, User.platform_user_id == platform_user_id)
        )
    ).first()
    if found is None:
        found = await _insert_or_reread(
            session,
            User(
                platform=platform,
                platform_user_id=platform_user_id,
                display_name=display_name,
                username=username,
            ),
            select(User).where(
                User.platform == platform, User.platform_user_id == platform_user_id
            ),
        )
    elif (found.display_name, found.username) != (display_name, username):
        found.display_name, found.username = display_name, username
        session.add(found)
        await session.flush()
    return found


async def upsert_chat(
    session: AsyncSession, *, platform: str, platform_chat_id: str, title: str = ""
) -> Chat:
    query = select(Chat).where(Chat.platform == platform, Chat.platform_chat_id == platform_chat_id)
    found = (await session.exec(query)).first()
    if found is None:
        found = await _insert_or_reread(
            session, Chat(platform=platform, platform_chat_id=platform_chat_id, title=title), query
        )
    elif title and found.title != title:
        found.title = title
        session.add(found)
        await session.flush()
    return found


async def _insert_or_reread(session: AsyncSession, row: Row, query: object) -> Row:
    # Two first messages from the same person can race; the unique key decides, the loser rereads.
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
        return row
    except IntegrityError:
        return (await session.exec(query)).one()  # type: ignore[call-overload,no-any-return]


async def user_ids(
    session: AsyncSession, people: list[tuple[str, str, str, str | None]]
) -> dict[tuple[str, str], int]:
    """Ids of many users at once, creating the missing ones and following renames; keyed by
    (platform, platform_user_id), entries are (platform, platform_user_id, display_name,
    username). Plain SQL rows rather than ORM objects: a burst of 200 first-time users must
    cost milliseconds."""
    wanted = {(p, uid): (name, username) for p, uid, name, username in people}
    # sqlalchemy's select: sqlmodel's typed overloads stop at four columns.
    query = sql_select(
        col(User.id),
        col(User.platform),
        col(User.platform_user_id),
        col(User.display_name),
        col(User.username),
    ).where(tuple_(col(User.platform), col(User.platform_user_id)).in_(list(wanted)))
    found: dict[tuple[str, str], int] = {}
    for row_id, platform, key, name, username in await _rows(session, query):
        found[(platform, key)] = row_id
        if wanted[(platform, key)] != (name, username):
            new_name, new_username = wanted[(platform, key)]
            await _exec(
                session,
                update(User)
                .where(col(User.id) == row_id)
                .values(display_name=new_name, username=new_username),
            )
    now = utcnow()
    missing = [
        {
            "platform": p,
            "platform_user_id": uid,
            "display_name": name,
            "username": username,
            "created_at": now,
        }
        for (p, uid), (name, username) in wanted.items()
        if (p, uid) not in found
    ]
    if await _insert_many(session, User, missing):
        if missing:
            found |= {(p, key): row_id for row_id, p, key, *_ in await _rows(session, query)}
        return found
    # Another process created some of them meanwhile: one at a time instead.
    for (p, uid), (name, username) in wanted.items():
        user = await upsert_user(
            session, platform=p, platform_user_id=uid, display_name=name, username=username
        )
        assert user.id is not None
        found[(p, uid)] = user.id
    return found


async def chat_ids(
    session: AsyncSession, chats: list[tuple[str, str, str]]
) -> dict[tuple[str, str], int]:
    """Ids of many chats at once, creating missing ones; entries are (platform, chat id, title)."""
    wanted = {(p, key): title for p, key, title in chats}
    query = select(
        col(Chat.id), col(Chat.platform), col(Chat.platform_chat_id), col(Chat.title)
    ).where(tuple_(col(Chat.platform), col(Chat.platform_chat_id)).in_(list(wanted)))
    found: dict[tuple[str, str], int] = {}
    for row_id, platform, key, title in await _rows(session, query):
        found[(platform, key)] = row_id
        if wanted[(platform, key)] and wanted[(platform, key)] != title:
            await _exec(
                session,
                update(Chat).where(col(Chat.id) == row_id).values(title=wanted[(platform, key)]),
            )
    now = utcnow()
    missing = [
        {"platform": p, "platform_chat_id": key, "title": title, "created_at": now}
        for (p, key), title in wanted.items()
        if (p, key) not in found
    ]
    if await _insert_many(session, Chat, missing):
        if missing:
            found |= {(p, key): row_id for row_id, p, key, _ in await _rows(session, query)}
        return found
    for (p, key), title in wanted.items():
        chat = await upsert_chat(session, platform=p, platform_chat_id=key, title=title)
        assert chat.id is not None
        found[(p, key)] = chat.id
    return found


async def _rows(session: AsyncSession, query: Any) -> Sequence[Any]:
    return (await session.exec(query)).all()  # type: ignore[no-any-return]


async def _exec(session: AsyncSession, statement: Any, params: Any = None) -> None:
    # sqlmodel types exec() for selects; plain INSERT/UPDATE statements run through it too.
    await session.exec(statement, params=params)


async def _insert_many(
    session: AsyncSession, table: type[User] | type[Chat], rows: list[dict[str, Any]]
) -> bool:
    """Insert rows with one executemany; False (and nothing inserted) when a unique key got in
    the way. No RETURNING: SQLite would then send the rows one at a time."""
    if not rows:
        return True
    try:
        async with session.begin_nested():
            await _exec(session, insert(table), params=rows)
    except IntegrityError:
        return False
    return True

"""Users and chats: rows are created the first time a platform shows them to us."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import insert, tuple_, update
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
            User(platform=platform, platform_user_id=platform_user_id,
                 display_name=display_name, username=username),
            select(User).where(User.platform == platform, User.platform_user_id == platform_user_id),
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
    keys = tuple_(col(User.platform), col(User.platform_user_id))
    query = select(User.id, User.platform, User.platform_user_id, User.display_name,
                   User.username).where(keys.in_(list(wanted)))
    found: dict[tuple[str, str], int] = {}
    for uid, platform, puid, name, username in (await session.exec(query)).all():
        found[(platform, puid)] = uid
        if wanted[(platform, puid)] != (name, username):
            new_name, new_username = wanted[(platform, puid)]
            await session.exec(update(User).where(col(User.id) == uid)  # type: ignore[call-overload]
                               .values(display_name=new_name, username=new_username))
    now = utcnow()
    missing = [
        {"platform": p, "platform_user_id": uid, "display_name": name, "username": username,
         "created_at": now}
        for (p, uid), (name, username) in wanted.items() if (p, uid) not in found
    ]
    if await _insert_many(session, User, missing):
        if missing:
            found |= {(p, puid): uid for uid, p, puid, *_ in (await session.exec(query)).all()}
        return found
    # Another process created some of them meanwhile: one at a time instead.
    for (p, uid), (name, username) in wanted.items():
        user = await upsert_user(session, platform=p, platform_user_id=uid,
                                 display_name=name, username=username)
        assert user.id is not None
        found[(p, uid)] = user.id
    return found


async def chat_ids(
    session: AsyncSession, chats: list[tuple[str, str, str]]
) -> dict[tuple[str, str], int]:
    """Ids of many chats at once, creating missing ones; entries are (platform, chat id, title)."""
    wanted = {(p, cid): title for p, cid, title in chats}
    keys = tuple_(col(Chat.platform), col(Chat.platform_chat_id))
    query = select(Chat.id, Chat.platform, Chat.platform_chat_id, Chat.title).where(
        keys.in_(list(wanted))
    )
    found: dict[tuple[str, str], int] = {}
    for cid, platform, pcid, title in (await session.exec(query)).all():
        found[(platform, pcid)] = cid
        if wanted[(platform, pcid)] and wanted[(platform, pcid)] != title:
            await session.exec(update(Chat).where(col(Chat.id) == cid)  # type: ignore[call-overload]
                               .values(title=wanted[(platform, pcid)]))
    now = utcnow()
    missing = [
        {"platform": p, "platform_chat_id": cid, "title": title, "created_at": now}
        for (p, cid), title in wanted.items() if (p, cid) not in found
    ]
    if await _insert_many(session, Chat, missing):
        if missing:
            found |= {(p, pcid): cid for cid, p, pcid, _ in (await session.exec(query)).all()}
        return found
    for (p, cid), title in wanted.items():
        chat = await upsert_chat(session, platform=p, platform_chat_id=cid, title=title)
        assert chat.id is not None
        found[(p, cid)] = chat.id
    return found


async def _insert_many(
    session: AsyncSession, table: type[User] | type[Chat], rows: list[dict[str, Any]]
) -> bool:
    """Insert rows with one executemany; False (and nothing inserted) when a unique key got in
    the way. No RETURNING: SQLite would then send the rows one at a time."""
    if not rows:
        return True
    try:
        async with session.begin_nested():
            await session.exec(insert(table), params=rows)  # type: ignore[call-overload]
    except IntegrityError:
        return False
    return True

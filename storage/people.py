"""Users and chats: rows are created the first time a platform shows them to us."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Chat, User

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

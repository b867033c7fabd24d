"""Storage rows as the core's plain values and back: the one place a `User`, `Chat` or `Cameo`
row becomes a `Person`, `ChatUser`, `ChatRef` or `CameoPolicy`, and a `ChatUser` a stored user."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.consent import Audience, CameoPolicy, Person
from bot.types import ChatRef, ChatUser
from storage.models import Cameo, Chat, Clip, JobCameo, User
from storage.people import upsert_user


def person(user: User | ChatUser) -> Person:
    if isinstance(user, User):
        return Person(user.platform, user.platform_user_id)
    return Person(user.platform, user.user_id)


def chat_user(user: User) -> ChatUser:
    return ChatUser(
        platform=user.platform,
        user_id=user.platform_user_id,
        display_name=user.display_name,
        username=user.username,
    )


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(platform=chat.platform, chat_id=chat.platform_chat_id, title=chat.title)


def policy(cameo: Cameo, owner: User) -> CameoPolicy:
    chats = frozenset(cameo.only_in_chats) if cameo.only_in_chats is not None else None
    return CameoPolicy(owner=person(owner), audience=Audience(cameo.audience), only_in_chats=chats)


def row_id(row: Cameo | Clip | User | JobCameo) -> int:
    """A stored row's id (rows read back from the database always have one)."""
    assert row.id is not None
    return row.id


async def user_row(session: AsyncSession, who: ChatUser) -> User:
    """The stored user for a person the platform named, recorded (or their names refreshed)."""
    return await upsert_user(
        session,
        platform=who.platform,
        platform_user_id=who.user_id,
        display_name=who.display_name,
        username=who.username,
    )

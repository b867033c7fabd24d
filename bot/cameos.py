"""A person's cameo as the owner sees it: looking it up, and the words for who may use it.

Shared by enrolling a likeness (`bot.enrollment`) and the owner's controls over it
(`bot.cameo_controls`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.consent import Audience
from bot.deps import Deps
from bot.rows import user_row
from bot.types import ChatUser
from storage import cameos as cameo_rows
from storage.models import Cameo, User

AUDIENCES = {
    "only_me": Audience.ONLY_ME,
    "only me": Audience.ONLY_ME,
    "me": Audience.ONLY_ME,
    "private": Audience.ONLY_ME,
    "approved": Audience.APPROVED,
    "approve": Audience.APPROVED,
    "ask": Audience.APPROVED,
    "ask me": Audience.APPROVED,
    "everyone": Audience.EVERYONE,
    "all": Audience.EVERYONE,
    "public": Audience.EVERYONE,
}
AUDIENCE_WORDS = {
    Audience.ONLY_ME: "only you",
    Audience.APPROVED: "people you approve (you are asked each time, unless you always allow them)",
    Audience.EVERYONE: "everyone",
}

CONTROLS = (
    "• /cameo audience only_me | approved | everyone\n"
    "• /cameo here: only in the chat you type it in (/cameo anywhere undoes it)\n"
    "• /cameo prefs <text>: added to every prompt with you, e.g. always wearing a red hat\n"
    "• /cameo clips: every clip you appear in\n"
    "• /cameo delete <clip number>: take one down\n"
    "• /cameo revoke @name: stop always allowing someone\n"
    "• /cameo enroll: record a new selfie clip\n"
    "• /cameo forget: delete your cameo and every clip with it"
)


@dataclass(frozen=True)
class Owner:
    user: User
    cameo: Cameo | None


async def owner_of(deps: Deps, author: ChatUser) -> Owner:
    async with deps.db.transaction() as session:
        user = await user_row(session, author)
        assert user.id is not None
        return Owner(user, await cameo_rows.cameo_of(session, user.id))

"""/admin in the local chat: its admin is the first person in the room, or whoever picks the
name in CLIPCREW_LOCAL_ADMIN; answers go to the private panel."""

from __future__ import annotations

import aiohttp

from adapters.local.people import People, private_chat
from bot.types import ChatRef
from tests.adapters.local.room import join, send, until

# The room, as any chat that is not a private panel.
ROOM = ChatRef("local", "room", "Room")


def test_the_first_person_in_the_room_is_its_admin() -> None:
    people = People()
    ada, bob = people.saw("u-ada", "Ada").user, people.saw("u-bob", "Bob").user
    assert people.is_admin(ada, ROOM) and not people.is_admin(bob, ROOM)
    # Everyone is the admin of their own private panel, and of nobody else's.
    assert people.is_admin(bob, private_chat(bob)) and not people.is_admin(bob, private_chat(ada))


def test_a_configured_name_is_the_admin_instead() -> None:
    people = People(admin="Bob")
    ada, bob = people.saw("u-ada", "Ada").user, people.saw("u-bob", "Bob").user
    assert people.is_admin(bob, ROOM) and not people.is_admin(ada, ROOM)


async def test_admin_through_the_real_core(http: aiohttp.ClientSession) -> None:
    ada = await join(http, "Ada", "u-ada-00001")
    bob = await join(http, "Bob", "u-bob-00001")

    await send(bob, "/admin policy standard")
    await until(bob, lambda f: "Only this chat's admins can use /admin." in str(f))

    await send(ada, "/admin ban @bob")
    private = await until(ada, lambda f: "@bob can no longer make clips here" in str(f))
    assert private["type"] != "error"
    await until(ada, lambda f: "I sent you a direct message" in str(f))

    await send(bob, "/sora a cat on a skateboard")
    await until(bob, lambda f: "stopped you from making clips here" in str(f))

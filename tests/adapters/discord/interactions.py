"""Interactions as a person makes them: a slash command (with an uploaded file, or typing into
an autocompleted option), a button press (in the channel or a DM), the context menu, a modal
submit. Each is built from what the emulator holds (the synced commands, the posted message
with its buttons, the modal the bot opened) and pushed through the gateway."""

from __future__ import annotations

from typing import Any

from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.payloads import Json

STRING, INTEGER, USER, ATTACHMENT = 3, 4, 6, 11
COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


def command_data(emu: Emulator, name: str, options: dict[str, Any]) -> Json:
    """A slash command's data; an option whose value is an attachment (`emu.upload(...)`)
    travels as its id, the attachment itself in `resolved`."""
    data: Json = {"id": emu.commands[name]["id"], "name": name, "type": 1, "options": []}
    for key, value in options.items():
        if isinstance(value, dict) and "username" in value:  # a person picked in a user option
            resolved = data.setdefault("resolved", {})
            resolved.setdefault("users", {})[value["id"]] = value
            member = {
                k: v for k, v in p.interaction(COMMAND, {}, value, size_limit=0)["member"].items()
            }
            del member["user"]
            resolved.setdefault("members", {})[value["id"]] = member
            option = {"name": key, "type": USER, "value": value["id"]}
        elif isinstance(value, dict):
            attachments = data.setdefault("resolved", {}).setdefault("attachments", {})
            attachments[value["id"]] = value
            option = {"name": key, "type": ATTACHMENT, "value": value["id"]}
        else:
            kind = INTEGER if isinstance(value, int) else STRING
            option = {"name": key, "type": kind, "value": value}
        data["options"].append(option)
    return data


async def slash(
    emu: Emulator, name: str, who: Json = p.ADA, *, in_dm: bool = False, **options: Any
) -> Json:
    """`/name option:value ...` in the server's channel, or `in_dm` in the bot's DM."""
    data = command_data(emu, name, options)
    if in_dm:
        channel_id = emu.open_dm(who["id"])
        interaction = p.dm_interaction(
            COMMAND, data, who, channel_id=channel_id, size_limit=emu.size_limit
        )
    else:
        interaction = p.interaction(COMMAND, data, who, size_limit=emu.size_limit)
        interaction["member"]["permissions"] = str(emu.permissions.get(who["id"], p.EVERYONE))
        interaction["channel"]["nsfw"] = emu.nsfw
    return await emu.interact(interaction)


async def autocomplete(
    emu: Emulator, name: str, focused: str, who: Json = p.ADA, **options: Any
) -> Json:
    """Typing into option `focused` of command `name` (its text so far among `options`)."""
    data = command_data(emu, name, options)
    for option in data["options"]:
        if option["name"] == focused:
            option["focused"] = True
    interaction = p.interaction(AUTOCOMPLETE, data, who, size_limit=emu.size_limit)
    return await emu.interact(interaction)


def button_id(message: Json, label: str) -> str:
    for row in message["components"]:
        for component in row["components"]:
            if label in component.get("label", ""):
                custom_id: str = component["custom_id"]
                return custom_id
    raise AssertionError(f"no {label!r} button on message {message['id']}")


async def press(emu: Emulator, message_id: str, label: str, who: Json = p.ADA) -> Json:
    """A press on a button of a message, in the channel or in a DM. In a DM Discord lets only
    the recipient press; here `who` may be anyone, to see that the bot checks."""
    message = emu.messages[message_id]
    data = {"custom_id": button_id(message, label), "component_type": 2}
    limit, channel_id = emu.size_limit, message["channel_id"]
    if emu.dm_user(channel_id) is None:
        interaction = p.interaction(COMPONENT, data, who, size_limit=limit, message=message)
    else:
        interaction = p.dm_interaction(
            COMPONENT, data, who, channel_id=channel_id, size_limit=limit, message=message
        )
    return await emu.interact(interaction)


async def context_menu(emu: Emulator, message_id: str, who: Json = p.ADA) -> Json:
    command = emu.commands["Remix clip"]
    data = {
        "id": command["id"],
        "name": "Remix clip",
        "type": 3,
        "target_id": message_id,
        "resolved": {"messages": {message_id: emu.messages[message_id]}},
    }
    return await emu.interact(p.interaction(COMMAND, data, who, size_limit=emu.size_limit))


async def submit(emu: Emulator, modal: Json, prompt: str, who: Json = p.ADA) -> Json:
    data = {"custom_id": modal["custom_id"], "components": p.submitted(modal["components"], prompt)}
    return await emu.interact(p.interaction(MODAL_SUBMIT, data, who, size_limit=emu.size_limit))

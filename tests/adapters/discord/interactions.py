"""Interactions as a person makes them: a slash command, a button press, the context menu, a
modal submit. Each is built from what the emulator holds (the synced commands, the posted
message with its buttons, the modal the bot opened) and pushed through the gateway."""

from __future__ import annotations

from typing import Any

from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.payloads import Json

STRING, INTEGER = 3, 4
COMMAND, COMPONENT, MODAL_SUBMIT = 2, 3, 5


async def slash(emu: Emulator, name: str, who: Json = p.ADA, **options: Any) -> Json:
    command = emu.commands[name]
    data = {
        "id": command["id"],
        "name": name,
        "type": 1,
        "options": [
            {"name": key, "type": INTEGER if isinstance(value, int) else STRING, "value": value}
            for key, value in options.items()
        ],
    }
    return await emu.interact(p.interaction(COMMAND, data, who, size_limit=emu.size_limit))


def button_id(message: Json, label: str) -> str:
    for row in message["components"]:
        for component in row["components"]:
            if component.get("label") == label:
                custom_id: str = component["custom_id"]
                return custom_id
    raise AssertionError(f"no {label!r} button on message {message['id']}")


async def press(emu: Emulator, message_id: str, label: str, who: Json = p.ADA) -> Json:
    message = emu.messages[message_id]
    data = {"custom_id": button_id(message, label), "component_type": 2}
    interaction = p.interaction(COMPONENT, data, who, size_limit=emu.size_limit, message=message)
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

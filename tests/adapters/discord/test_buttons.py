"""The buttons under a clip, the "Remix clip" context menu and the remix modal, pressed by the
clip's author and by someone else."""

from __future__ import annotations

from clipcrew.app import Services
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator
from tests.adapters.discord.interactions import context_menu, press, slash, submit

REMIX = "#2 “a cat DJ at a rooftop party · remix: {}” by @bob (remix of #1)"
REFUSED = "🙅 Only the person who made this clip"


async def first_clip(emulator: Emulator) -> str:
    await slash(emulator, "sora", prompt="a cat DJ at a rooftop party")
    [clip] = await emulator.wait_for("followup")
    return str(clip.message_id)


async def test_reroll_by_anyone_makes_a_new_clip_of_the_same_prompt(
    services: Services, emulator: Emulator
) -> None:
    clip_id = await first_clip(emulator)
    await press(emulator, clip_id, "Reroll", who=p.BOB)
    rerolled = (await emulator.wait_for("followup", 2))[1]
    assert rerolled.detail["content"].startswith("#2 “a cat DJ at a rooftop party” by @bob")


async def test_delete_is_for_the_author_only(services: Services, emulator: Emulator) -> None:
    clip_id = await first_clip(emulator)

    await press(emulator, clip_id, "Delete", who=p.BOB)
    await emulator.first("edit_original", lambda e: e.detail.startswith(REFUSED))
    assert emulator.of("ack")[-1].detail == {"type": 5, "ephemeral": True}
    assert clip_id not in emulator.deleted

    await press(emulator, clip_id, "Delete", who=p.ADA)
    [gone] = await emulator.wait_for("channel_delete")
    assert gone.message_id == clip_id
    await emulator.first("edit_original", lambda e: e.detail == "🗑️ Clip #1 was deleted.")


async def test_the_remix_button_opens_a_modal_whose_prompt_remixes_the_clip(
    services: Services, emulator: Emulator
) -> None:
    clip_id = await first_clip(emulator)
    await press(emulator, clip_id, "Remix", who=p.BOB)
    [modal] = await emulator.wait_for("modal")
    assert modal.detail["title"] == "Remix clip"
    await submit(emulator, modal.detail, "make it rain", who=p.BOB)
    remix = (await emulator.wait_for("followup", 2))[1]
    assert remix.detail["content"] == REMIX.format("make it rain")


async def test_the_context_menu_opens_the_same_modal(
    services: Services, emulator: Emulator
) -> None:
    clip_id = await first_clip(emulator)
    await context_menu(emulator, clip_id, who=p.BOB)
    [modal] = await emulator.wait_for("modal")
    await submit(emulator, modal.detail, "now in space", who=p.BOB)
    remix = (await emulator.wait_for("followup", 2))[1]
    assert remix.detail["content"] == REMIX.format("now in space")


async def test_the_context_menu_on_another_message_is_refused_privately(
    services: Services, emulator: Emulator
) -> None:
    other = emulator.add_message(p.message(p.CHANNEL_ID, "just chatting"))
    await context_menu(emulator, other["id"])
    [ack] = await emulator.wait_for("ack")
    assert ack.detail == {"type": 4, "ephemeral": True}
    assert "isn't one of my clips" in emulator.messages[ack.message_id]["content"]
    assert emulator.of("modal") == []


async def test_a_forged_button_is_refused(services: Services, emulator: Emulator) -> None:
    clip_id = await first_clip(emulator)
    message = emulator.messages[clip_id]
    for row in message["components"]:
        for component in row["components"]:
            component["custom_id"] = component["custom_id"].replace(":1:", ":2:")
    await press(emulator, clip_id, "Delete", who=p.BOB)
    ack = (await emulator.wait_for("ack", 2))[1]
    assert ack.detail == {"type": 4, "ephemeral": True}
    assert "isn't valid here" in emulator.messages[ack.message_id]["content"]

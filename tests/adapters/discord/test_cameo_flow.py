"""Cameos end to end through the real core: Ada enrolls with `/cameo` and a selfie video, Bob
asks for her in `/sora`, Ada is asked in a DM, a stranger's press is refused, and Ada's Deny
reaches Bob."""

from __future__ import annotations

from collections.abc import Callable

from clipcrew.app import Services
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator, Event
from tests.adapters.discord.interactions import autocomplete, press, slash
from tests.engine.faces import clips


def in_dm_with(emulator: Emulator, who: p.Json) -> list[p.Json]:
    """The bot's messages in its DM with `who`, oldest first."""
    return [
        message
        for message in emulator.messages.values()
        if emulator.dm_user(message["channel_id"]) == who["id"]
    ]


def saying(text: str) -> Callable[[Event], bool]:
    return lambda event: isinstance(event.detail, str) and text in event.detail


async def test_enroll_ask_refuse_a_stranger_and_deny(
    services: Services, emulator: Emulator
) -> None:
    # 1. Ada opens an enrollment: the code comes by DM; the channel hears only that.
    await slash(emulator, "cameo")
    await emulator.first("edit_original", saying("I sent you a direct message"))
    [code] = in_dm_with(emulator, p.ADA)
    assert "say your code" in code["content"]

    # 2. Her selfie video, attached to /cameo, passes the face checks.
    await slash(emulator, "cameo", video=emulator.upload(clips.head_turn()))
    await emulator.first("edit_original", saying("Your cameo is ready"))

    # 3. Bob finds her cameo by typing, and asks for it in /sora.
    await autocomplete(emulator, "sora", "cameo", who=p.BOB, prompt="a cat DJ", cameo="ad")
    [choices] = await emulator.wait_for("autocomplete")
    assert choices.detail == [{"name": "@ada", "value": p.ADA["id"]}]
    await slash(emulator, "sora", who=p.BOB, prompt="a cat DJ", cameo=p.ADA["id"])
    waiting = await emulator.first("edit_original", saying("Waiting for @ada"))

    # 4. Ada is asked in a DM with three buttons.
    request = await emulator.first(
        "channel_message", lambda e: "components" in e.detail and bool(e.detail["components"])
    )
    message = emulator.messages[str(request.message_id)]
    labels = [c["label"] for row in message["components"] for c in row["components"]]
    assert len(labels) == 3 and labels[-1].endswith("Deny")

    # 5. Someone else's press is refused, privately.
    await press(emulator, message["id"], "Deny", who=p.CAROL)
    await emulator.first("edit_original", saying("Only @ada can answer"))
    assert message["components"]

    # 6. Ada denies: she sees it privately, her DM loses its buttons, Bob's status says no.
    await press(emulator, message["id"], "Deny", who=p.ADA)
    await emulator.first("edit_original", saying("You said no"))
    assert message["components"] == []
    bob_status = emulator.messages[str(waiting.message_id)]
    assert "@ada said no" in bob_status["content"]

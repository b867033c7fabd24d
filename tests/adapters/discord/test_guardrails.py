"""Guardrails through the real discord.py, core and light pool, against the emulator: the
/admin command hidden by default permissions, Manage Server as the admin test, ephemeral
answers, refused prompts, bans, the adult policy only in age-restricted channels, the budget."""

from __future__ import annotations

import pytest

from clipcrew.app import Services
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator, Event
from tests.adapters.discord.interactions import press, slash

EPHEMERAL = 64
GORE = "a man is decapitated with a chainsaw, blood and gore spraying everywhere"


def make_admin(emulator: Emulator, who: p.Json = p.ADA) -> None:
    emulator.permissions[who["id"]] = p.EVERYONE | p.MANAGE_GUILD


def shown(emulator: Emulator, text: str) -> bool:
    """Whether some answer (an edit of a response, or a followup) contains `text`."""
    answers = [e.detail for e in emulator.of("edit_original")]
    answers += [e.detail.get("content", "") for e in emulator.of("followup")]
    return any(text in str(answer) for answer in answers)


async def answered(emulator: Emulator, text: str) -> Event:
    def wanted(event: Event) -> bool:
        return text in str(event.detail)

    return await emulator.first("edit_original", wanted)


async def test_admin_is_synced_for_manage_server_only_and_guild_only(
    services: Services, emulator: Emulator
) -> None:
    command = emulator.commands["admin"]
    assert int(command["default_member_permissions"]) == p.MANAGE_GUILD
    assert command["description"].startswith("Chat admins")
    assert command.get("contexts") == [0] or command.get("dm_permission") is False


async def test_a_refused_prompt_is_told_privately_and_nothing_is_queued(
    services: Services, emulator: Emulator
) -> None:
    await slash(emulator, "sora", prompt=GORE)
    whisper = await emulator.first("followup", lambda e: "I can't make clips" in str(e.detail))
    assert whisper.detail["flags"] & EPHEMERAL
    assert whisper.detail["content"].endswith("in this chat.")
    assert not shown(emulator, "🎬 Queued")


async def test_a_non_admins_admin_is_refused(services: Services, emulator: Emulator) -> None:
    await slash(emulator, "admin", who=p.BOB, action="policy standard")
    await answered(emulator, "Only this chat's admins can use /admin.")
    assert emulator.of("ack")[0].detail == {"type": 5, "ephemeral": True}


async def test_an_admin_changes_the_policy_and_bans_someone(
    services: Services, emulator: Emulator
) -> None:
    make_admin(emulator)
    await slash(emulator, "admin", action="policy standard")
    await answered(emulator, "now standard")
    assert all(ack.detail["ephemeral"] for ack in emulator.of("ack"))

    await slash(emulator, "admin", action="ban", person=p.BOB)
    await answered(emulator, "@bob can no longer make clips here")
    await slash(emulator, "sora", who=p.BOB, prompt="a cat on a skateboard")
    banned = await emulator.first("followup", lambda e: "stopped you" in str(e.detail))
    assert banned.detail["flags"] & EPHEMERAL


async def test_adult_only_in_an_age_restricted_channel(
    services: Services, emulator: Emulator
) -> None:
    make_admin(emulator)
    await slash(emulator, "admin", action="policy adult")
    await answered(emulator, "only available in age-restricted (NSFW) channels")
    await emulator.mark_nsfw()
    await slash(emulator, "admin", action="policy adult")
    await answered(emulator, "now adult")


async def test_the_daily_limit(services: Services, emulator: Emulator) -> None:
    make_admin(emulator)
    await slash(emulator, "admin", action="limit 1 100")
    await answered(emulator, "1 per person, 100 per chat")
    await slash(emulator, "sora", who=p.BOB, prompt="a cat on a skateboard")
    await answered(emulator, "🎬 Queued")
    await slash(emulator, "sora", who=p.BOB, prompt="a dog on a skateboard")
    over = await emulator.first("followup", lambda e: "today's 1 clip" in str(e.detail))
    assert "resets at midnight UTC" in over.detail["content"]


# A long clip renders for seconds: the job is still in hand when the admin presses Cancel.
@pytest.mark.parametrize("discord_env", [{"CLIPCREW_CLIP_SECONDS": 20}])
async def test_the_queue_has_a_cancel_per_job(services: Services, emulator: Emulator) -> None:
    make_admin(emulator)
    await slash(emulator, "sora", who=p.BOB, prompt="a cat on a skateboard")
    await answered(emulator, "🎬 Queued")
    await slash(emulator, "admin", action="queue")
    listing = await answered(emulator, "@bob: “a cat on a skateboard”")
    assert listing.message_id is not None
    await press(emulator, listing.message_id, "Cancel 1")
    await answered(emulator, "Cancelled")
    await answered(emulator, "An admin of this chat cancelled this clip.")
    assert emulator.of("followup") == []  # no clip was posted

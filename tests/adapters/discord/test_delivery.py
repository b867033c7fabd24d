"""Getting the clip out whatever Discord says: rate limits, dead interaction tokens and upload
limits. (DMs to people who refuse them: test_cameo.py.)"""

from __future__ import annotations

import io

import av

from adapters.discord import DiscordPort
from clipcrew.app import Services
from storage import deliveries
from tests.adapters.discord import payloads as p
from tests.adapters.discord.emulator import Emulator, Event
from tests.adapters.discord.interactions import slash

FOLLOWUP = r"POST .*/webhooks/"
UNKNOWN_INTERACTION = {"code": 10062, "message": "Unknown interaction"}
# A 128x128 one-second sketch clip is ~30 KB: this limit stands in for Discord's 10 MiB.
SMALL_LIMIT = 20_000


def port_of(services: Services) -> DiscordPort:
    port = services.core.port("discord")
    assert isinstance(port, DiscordPort)
    return port


def assert_playable(video: bytes) -> None:
    with av.open(io.BytesIO(video)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) > 0


async def test_a_429_with_retry_after_is_retried(services: Services, emulator: Emulator) -> None:
    limited = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
    emulator.fail(FOLLOWUP, 429, limited, headers={"Via": "1.1 google"})
    await slash(emulator, "sora", prompt="a dog on a skateboard")
    [clip] = await emulator.wait_for("followup")
    assert [f.detail[1] for f in emulator.of("fault")] == [429]
    assert_playable(emulator.files[str(clip.message_id)])


async def test_an_expired_token_posts_the_clip_in_the_channel_mentioning_the_author(
    services: Services, emulator: Emulator
) -> None:
    emulator.fail(FOLLOWUP, 404, UNKNOWN_INTERACTION)
    await slash(emulator, "sora", prompt="a dog on a skateboard")
    [post] = await emulator.wait_for("channel_message")
    assert post.detail["content"] == f"<@{p.ADA['id']}> #1 “a dog on a skateboard” by @ada"
    assert post.detail["allowed_mentions"]["users"] == [int(p.ADA["id"])]
    assert len(post.detail["components"][0]["components"]) == 3
    assert_playable(emulator.files[str(post.message_id)])
    await emulator.wait_for("delete_original")  # the status goes after the delivery is recorded
    async with services.db.session() as session:
        [(_, _, message_id)] = await deliveries.messages_of(session, 1)
    assert message_id == post.message_id


async def test_a_token_near_its_15_minutes_is_not_used(
    services: Services, emulator: Emulator
) -> None:
    port = port_of(services)
    offset = [0.0]
    port.clock = lambda: offset[0]

    def fifteen_minutes_pass(event: Event) -> None:
        offset[0] += 15 * 60

    # Right after the Queued edit: the job is about to start and the token is now too old.
    emulator.hooks["edit_original"] = fifteen_minutes_pass
    await slash(emulator, "sora", prompt="a very slow render")
    [post] = await emulator.wait_for("channel_message")
    assert post.detail["content"].startswith(f"<@{p.ADA['id']}> #1")
    assert emulator.of("followup") == []
    # The status message still goes, through the bot's own channel endpoint.
    [gone] = await emulator.wait_for("channel_delete")
    assert gone.message_id == emulator.of("ack")[0].message_id


async def test_the_interactions_size_limit_forces_a_re_encode(
    services: Services, emulator: Emulator
) -> None:
    emulator.upload_limit = SMALL_LIMIT
    await slash(emulator, "sora", prompt="a cat DJ at a rooftop party")
    [clip] = await emulator.wait_for("followup")
    video = emulator.files[str(clip.message_id)]
    assert len(video) <= SMALL_LIMIT
    assert_playable(video)
    assert emulator.of("too_large") == []  # fitted before the upload, never refused


async def test_a_413_shrinks_the_clip_until_it_fits(services: Services, emulator: Emulator) -> None:
    emulator.upload_limit = 25_000
    emulator.reported_limit = 10 * 1024 * 1024  # the interaction claims more than is allowed
    await slash(emulator, "sora", prompt="a cat DJ at a rooftop party")
    [clip] = await emulator.wait_for("followup")
    assert len(emulator.files[str(clip.message_id)]) <= 25_000
    assert emulator.of("too_large")  # refused at least once before it fitted

"""Remixes and rerolls through the core: the parent found from a reply or by its id, the lineage,
seed and dialogue a remix keeps, and a deleted parent."""

from __future__ import annotations

from bot.commands import Remix, Reroll
from bot.replies import Queued, Refused
from storage import deliveries
from storage.models import Clip
from tests.bot.harness import Bot, finish, jobs, sora
from tests.fakes import CHAT, person


async def deliver(bot: Bot, clip: Clip, message_id: str) -> None:
    async with bot.db.transaction() as session:
        assert clip.id is not None
        target = deliveries.Target(clip.id, CHAT.platform, CHAT.chat_id)
        assert await deliveries.claim(session, target, claimant="an earlier bot")
        await deliveries.mark_sent(session, target, message_id=message_id)


async def test_reply_to_a_clip_is_a_remix_with_lineage(bot: Bot) -> None:
    parent_reply = await bot.core.handle(sora('a cat says "hello"', who=1))
    assert isinstance(parent_reply, Queued)
    parent = await finish(bot, parent_reply.job_id)
    await deliver(bot, parent, "clip-msg")

    remix = await bot.core.handle(sora("make it rain", who=2, msg="m2", reply_to="clip-msg"))
    assert isinstance(remix, Queued) and remix.remix_of == parent.id
    assert remix.text.startswith("🎬 Remixing")
    job = next(j for j in await jobs(bot.db) if j.id == remix.job_id)
    assert job.parent_clip_id == parent.id
    assert job.seed == parent.seed
    assert job.prompt.startswith('a cat says "hello"') and job.prompt.endswith("make it rain")

    grandchild = await finish(bot, remix.job_id)
    assert grandchild.parent_id == parent.id


async def test_reply_to_an_ordinary_message_is_a_plain_generate(bot: Bot) -> None:
    reply = await bot.core.handle(sora("a frog", reply_to="just-chat"))
    assert isinstance(reply, Queued) and reply.remix_of is None


async def test_remix_by_id_and_of_a_deleted_clip(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a frog"))
    assert isinstance(queued, Queued)
    clip = await finish(bot, queued.job_id)
    assert clip.id is not None
    remix = await bot.core.handle(
        Remix(prompt="in space", author=person(2), chat=CHAT, parent_clip_id=clip.id)
    )
    assert isinstance(remix, Queued) and remix.remix_of == clip.id
    async with bot.db.transaction() as session:
        row = await session.get(Clip, clip.id)
        assert row is not None
        row.deleted = True
        session.add(row)
    refused = await bot.core.handle(
        Remix(prompt="again", author=person(3), chat=CHAT, parent_clip_id=clip.id)
    )
    assert isinstance(refused, Refused) and "deleted" in refused.text
    missing = await bot.core.handle(
        Remix(prompt="x", author=person(3), chat=CHAT, parent_clip_id=99_999)
    )
    assert isinstance(missing, Refused)


async def test_reroll_keeps_the_prompt_and_dialogue_with_a_new_seed(bot: Bot) -> None:
    queued = await bot.core.handle(sora('a cat says "hello"'))
    assert isinstance(queued, Queued)
    parent = await finish(bot, queued.job_id)
    assert parent.id is not None
    reroll = await bot.core.handle(Reroll(author=person(2), chat=CHAT, parent_clip_id=parent.id))
    assert isinstance(reroll, Queued) and reroll.remix_of == parent.id
    job = next(j for j in await jobs(bot.db) if j.id == reroll.job_id)
    assert job.prompt == parent.prompt and job.seed != parent.seed
    assert job.dialogue == [{"text": "hello", "speaker": None}]


async def test_remix_keeps_the_parents_dialogue_and_adds_its_own(bot: Bot) -> None:
    queued = await bot.core.handle(sora('Cat: "hello"'))
    assert isinstance(queued, Queued)
    parent = await finish(bot, queued.job_id)
    assert parent.id is not None
    remix = await bot.core.handle(
        Remix(prompt='Dog: "woof"', author=person(2), chat=CHAT, parent_clip_id=parent.id)
    )
    assert isinstance(remix, Queued)
    job = next(j for j in await jobs(bot.db) if j.id == remix.job_id)
    assert [d["speaker"] for d in job.dialogue] == ["Cat", "Dog"]

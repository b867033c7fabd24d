"""Guardrails in the core: prompt moderation before anything is kept, bans, daily budgets, and
the admin commands, with a real database and a scripted light pool. The policy tables are
test_policy."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlmodel import select

from bot.admin_commands import AdminCommand, CancelJob
from bot.callbacks import job_id_of
from bot.commands import Generate
from bot.deps import BotConfig, Deps
from bot.policy import ADULT_NEEDS_MARK, ADULT_WARNING, refusal_text
from bot.replies import Failed, Note, Queued, Refused
from bot.service import Core
from engine.api import GRAPHIC_VIOLENCE, PRESETS, SEXUAL, SEXUAL_MINORS, STANDARD, STRICT
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import AuditEntry, Clip, Job, JobState
from storage.people import upsert_chat, upsert_user
from tests.fakes import CHAT, RecordingLight, RecordingPort, RecordingQueue, message, person

ADMIN, MEMBER = person(1), person(2)
GORE = {"gore": {GRAPHIC_VIOLENCE: 0.9}}
# Between the strict and the standard thresholds: refused under strict, allowed under standard.
EDGY = {
    "edgy": {
        GRAPHIC_VIOLENCE: (PRESETS[STRICT][GRAPHIC_VIOLENCE] + PRESETS[STANDARD][GRAPHIC_VIOLENCE])
        / 2
    }
}


@dataclass
class Bot:
    core: Core
    port: RecordingPort
    queue: RecordingQueue
    light: RecordingLight
    db: Database
    blobs: BlobStore


@pytest.fixture
def bot(sqlite_db: Database, blobs: BlobStore) -> Bot:
    port, queue = RecordingPort(), RecordingQueue()
    light = RecordingLight(
        scores=GORE | EDGY | {"minor": {SEXUAL_MINORS: 0.9, SEXUAL: 0.9}, "nsfw": {SEXUAL: 0.9}}
    )
    deps = Deps(db=sqlite_db, queue=queue, blobs=blobs, light=light, config=BotConfig())
    core = Core(deps)
    core.attach(port)
    return Bot(core, port, queue, light, sqlite_db, blobs)


def sora(prompt: str, who: int = 2, msg: str = "m1") -> Generate:
    return Generate(prompt=prompt, author=person(who), chat=CHAT, message=message(msg))


def admin(
    args: str, *, who: int = 1, is_admin: bool = True, adult_place: bool | None = None
) -> AdminCommand:
    return AdminCommand(
        args=args,
        author=person(who),
        chat=CHAT,
        is_admin=is_admin,
        adult_place=adult_place,
        message=message("a1"),
    )


async def rows(db: Database, model: type[Job] | type[AuditEntry]) -> list[object]:
    async with db.session() as session:
        return list((await session.exec(select(model))).all())


def last_dm(bot: Bot, who: int = 1) -> Note:
    sent = bot.port.dms_to(person(who))
    assert sent, "nothing was sent privately"
    note = sent[-1].reply
    assert isinstance(note, Note)
    return note


# Prompt moderation --------------------------------------------------------------------------


async def test_a_refused_prompt_names_the_category_and_nothing_is_kept(bot: Bot) -> None:
    reply = await bot.core.handle(sora("a knight, gore everywhere"))

    assert reply == Refused("I can't make clips with graphic violence or gore in this chat.")
    assert bot.port.replies() == [reply]
    assert await rows(bot.db, Job) == [] and bot.queue.enqueued == []
    [entry] = await rows(bot.db, AuditEntry)
    assert isinstance(entry, AuditEntry)
    assert (entry.action, entry.category) == ("refused", GRAPHIC_VIOLENCE)
    assert "gore" in entry.detail


async def test_each_dialogue_line_is_checked_too(bot: Bot) -> None:
    reply = await bot.core.handle(sora('a knight says "so much gore"'))
    assert isinstance(reply, Refused)
    assert bot.light.texts() == ['a knight says "so much gore"', "so much gore"]


async def test_a_burst_of_prompts_is_checked_in_a_few_light_calls(bot: Bot) -> None:
    bot.light.delay_s = 0.2
    prompts = [f"cat number {n}" if n % 3 else f"gore number {n}" for n in range(40)]
    replies = await asyncio.gather(
        *(bot.core.handle(sora(p, who=n + 2, msg=f"m{n}")) for n, p in enumerate(prompts))
    )
    refused = [p for p, r in zip(prompts, replies, strict=True) if isinstance(r, Refused)]
    assert refused == [p for p in prompts if "gore" in p]
    assert all(isinstance(r, Queued) for p, r in zip(prompts, replies, strict=True) if "cat" in p)
    # The first call goes at once; the ones arriving meanwhile wait and go together, at most
    # 32 texts a call.
    assert len(bot.light.calls) <= 10
    assert all(len(payload["texts"]) <= 32 for _, payload in bot.light.calls)


async def test_the_prompt_of_a_sexual_minors_refusal_is_never_stored(bot: Bot) -> None:
    reply = await bot.core.handle(sora("something with a minor"))
    assert reply == Refused(refusal_text(SEXUAL_MINORS))
    [entry] = await rows(bot.db, AuditEntry)
    assert isinstance(entry, AuditEntry)
    assert (entry.category, entry.detail) == (SEXUAL_MINORS, "")


async def test_without_an_answer_from_the_light_pool_nothing_is_queued(bot: Bot) -> None:
    bot.light.down = True
    reply = await bot.core.handle(sora("a cat on a skateboard"))
    assert isinstance(reply, Refused) and "couldn't check this prompt" in reply.text
    assert await rows(bot.db, Job) == [] and bot.queue.enqueued == []


async def test_a_harmless_prompt_is_queued_with_the_policys_nudity_threshold(bot: Bot) -> None:
    reply = await bot.core.handle(sora("a cat on a skateboard"))
    assert isinstance(reply, Queued)
    [job] = await rows(bot.db, Job)
    assert isinstance(job, Job)
    assert job.nudity_threshold == PRESETS[STRICT]["nudity"]


# Admin commands -----------------------------------------------------------------------------


async def test_a_non_admin_is_refused_privately(bot: Bot) -> None:
    reply = await bot.core.handle(admin("policy standard", who=2, is_admin=False))
    assert isinstance(reply, Refused) and "Only this chat's admins" in reply.text
    assert bot.port.of("post")[0].reply == reply and not bot.port.of("dm")
    assert isinstance(await bot.core.handle(sora("a bit edgy")), Refused)  # still strict


async def test_an_admin_changes_the_policy(bot: Bot) -> None:
    assert isinstance(await bot.core.handle(sora("a bit edgy", msg="m1")), Refused)
    await bot.core.handle(admin("policy standard"))
    assert "now standard" in last_dm(bot).text
    assert isinstance(await bot.core.handle(sora("a bit edgy", msg="m2")), Queued)
    [job] = await rows(bot.db, Job)
    assert isinstance(job, Job) and job.nudity_threshold == PRESETS[STANDARD]["nudity"]


async def test_adult_needs_a_marked_place_or_a_confirmed_warning(bot: Bot) -> None:
    await bot.core.handle(admin("policy adult", adult_place=False))
    assert last_dm(bot).text == ADULT_NEEDS_MARK
    await bot.core.handle(admin("policy adult"))
    assert last_dm(bot).text == ADULT_WARNING
    assert isinstance(await bot.core.handle(sora("nsfw", msg="m1")), Refused)
    await bot.core.handle(admin("policy adult confirm"))
    assert "now adult" in last_dm(bot).text
    assert isinstance(await bot.core.handle(sora("nsfw", msg="m2")), Queued)
    assert isinstance(await bot.core.handle(sora("a minor, nsfw", msg="m3")), Refused)


async def test_adult_is_set_at_once_in_an_age_restricted_channel(bot: Bot) -> None:
    await bot.core.handle(admin("policy adult", adult_place=True))
    assert "now adult" in last_dm(bot).text


async def test_a_banned_person_is_refused_until_unbanned(bot: Bot) -> None:
    await bot.core.handle(sora("a cat", msg="m1"))  # the bot learns @person2's name
    await bot.core.handle(admin("ban @person2"))
    assert "@person2 can no longer make clips here" in last_dm(bot).text

    reply = await bot.core.handle(sora("a dog", msg="m2"))
    assert isinstance(reply, Refused) and "stopped you from making clips" in reply.text
    assert bot.light.texts() == ["a cat"]  # a banned person's prompt is not even checked

    await bot.core.handle(admin("unban @person2"))
    assert isinstance(await bot.core.handle(sora("a dog", msg="m3")), Queued)


async def test_an_unknown_name_is_explained(bot: Bot) -> None:
    reply = await bot.core.handle(admin("ban @nobody"))
    assert isinstance(reply, Refused) and "I don't know @nobody" in reply.text


async def test_the_daily_budget_per_person_and_per_chat(bot: Bot) -> None:
    await bot.core.handle(admin("limit 1 2"))
    assert "1 per person, 2 per chat" in last_dm(bot).text
    assert isinstance(await bot.core.handle(sora("one", who=2, msg="m1")), Queued)
    over = await bot.core.handle(sora("two", who=2, msg="m2"))
    assert isinstance(over, Refused)
    assert "You have made today's 1 clip" in over.text and "midnight UTC" in over.text
    assert isinstance(await bot.core.handle(sora("three", who=3, msg="m3")), Queued)
    chat_over = await bot.core.handle(sora("four", who=4, msg="m4"))
    assert isinstance(chat_over, Refused) and "This chat has made today's 2 clips" in chat_over.text
    assert len(await rows(bot.db, Job)) == 2


async def test_bad_limits_get_a_usage_line(bot: Bot) -> None:
    reply = await bot.core.handle(admin("limit lots"))
    assert isinstance(reply, Refused) and "Usage: /admin limit" in reply.text


async def test_the_queue_lists_jobs_and_an_admin_cancels_one(bot: Bot) -> None:
    queued = await bot.core.handle(sora("a cat on a skateboard"))
    assert isinstance(queued, Queued)
    await bot.core.handle(admin("queue"))
    listing = last_dm(bot)
    assert "@person2: “a cat on a skateboard” (queued)" in listing.text
    [choice] = listing.choices
    assert job_id_of(choice.button) == queued.job_id

    stranger = await bot.core.handle(CancelJob(queued.job_id, person(3), CHAT))
    assert isinstance(stranger, Refused)
    done = await bot.core.handle(CancelJob(queued.job_id, ADMIN, CHAT))
    assert done == Note("✖️ Cancelled.")
    [job] = await rows(bot.db, Job)
    assert isinstance(job, Job) and job.state is JobState.CANCELLED
    told = [s.reply for s in bot.port.sent if isinstance(s.reply, Failed)]
    assert told and "cancelled" in told[0].reason
    again = await bot.core.handle(CancelJob(queued.job_id, ADMIN, CHAT))
    assert again == Refused("That clip already finished.")


async def test_purge_deletes_every_clip_of_that_person_here(bot: Bot) -> None:
    await bot.core.handle(sora("a cat"))
    async with bot.db.transaction() as session:
        author = await upsert_user(
            session,
            platform="test",
            platform_user_id="u2",
            display_name="Person 2",
            username="person2",
        )
        chat = await upsert_chat(session, platform="test", platform_chat_id=CHAT.chat_id)
        for n in range(2):
            key = await bot.blobs.put(f"clip {n}".encode(), "mp4")
            session.add(_clip(f"j{n}", key, author_id=author.id, chat_id=chat.id))
    await bot.core.handle(admin("purge @person2"))
    assert "Deleted 2 clips by @person2" in last_dm(bot).text
    async with bot.db.session() as session:
        clips = (await session.exec(select(Clip))).all()
    assert [clip.deleted for clip in clips] == [True, True]


async def test_the_log_shows_refusals_and_admin_actions(bot: Bot) -> None:
    await bot.core.handle(sora("gore", msg="m1"))
    await bot.core.handle(sora("a minor", msg="m2"))
    await bot.core.handle(admin("policy standard"))
    await bot.core.handle(admin("log"))
    text = last_dm(bot).text
    assert f"{GRAPHIC_VIOLENCE}: 1" in text and f"{SEXUAL_MINORS}: 1" in text
    assert "@person1 · policy: standard" in text
    assert "a minor" not in text


def _clip(job_id: str, key: str, *, author_id: int | None, chat_id: int | None) -> Clip:
    assert author_id is not None and chat_id is not None
    return Clip(
        job_id=job_id,
        prompt="a cat",
        seed=1,
        engine="sketch",
        duration_s=1.0,
        width=64,
        height=64,
        size_bytes=3,
        author_id=author_id,
        chat_id=chat_id,
        blob_key=key,
    )

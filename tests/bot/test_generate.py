"""`/sora` through the core: the job recorded, the status posted in reply, the job enqueued once;
its place in line, the cap per person, and a queue that is down."""

from __future__ import annotations

from bot.replies import Queued, Refused
from storage.models import JobState
from tests.bot.harness import Bot, finish, jobs, sora
from tests.fakes import message


async def test_generate_records_job_posts_status_and_enqueues_once(bot: Bot) -> None:
    reply = await bot.core.handle(sora('a cat says "hello" to @person2'))
    assert isinstance(reply, Queued) and reply.position == 0
    [job] = await jobs(bot.db)
    assert job.state is JobState.QUEUED and job.id == reply.job_id
    assert job.prompt == 'a cat says "hello" to @person2'
    assert job.dialogue == [{"text": "hello", "speaker": None}]
    assert job.request_message_id == "m1"
    [status] = bot.port.of("post")
    assert status.reply == reply and status.reply_to == message("m1")
    assert job.status_message_id == status.message_id
    assert bot.queue.enqueued == [job.id]


async def test_queue_position_counts_jobs_ahead(bot: Bot) -> None:
    first = await bot.core.handle(sora("one", who=1))
    second = await bot.core.handle(sora("two", who=2))
    assert isinstance(first, Queued) and isinstance(second, Queued)
    assert (first.position, second.position) == (0, 1)
    assert "(1st in line)" in second.text


async def test_cap_on_jobs_in_flight_per_user(bot: Bot) -> None:
    a = await bot.core.handle(sora("one"))
    b = await bot.core.handle(sora("two"))
    third = await bot.core.handle(sora("three"))
    assert isinstance(a, Queued) and isinstance(b, Queued)
    assert isinstance(third, Refused) and "2 clips cooking" in third.text
    assert len(await jobs(bot.db)) == 2
    # Someone else is not affected, and a finished job frees a slot.
    assert isinstance(await bot.core.handle(sora("other person", who=2)), Queued)
    await finish(bot, a.job_id)
    assert isinstance(await bot.core.handle(sora("four")), Queued)


async def test_queue_down_fails_the_job_and_tells_the_person(bot: Bot) -> None:
    bot.queue.broken = True
    reply = await bot.core.handle(sora("a dog"))
    assert isinstance(reply, Refused) and "unavailable" in reply.text
    [job] = await jobs(bot.db)
    assert job.state is JobState.FAILED and job.error and "unavailable" in job.error
    assert isinstance(bot.port.replies()[-1], Refused)

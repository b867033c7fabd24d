"""Wiring: which parts run in this process, started and stopped in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from adapters.feed import start_feed
from adapters.local.server import start_local_chat
from bot.deps import Deps
from bot.feed_links import DEFAULT_PUBLIC_URL, FeedLinks
from bot.ports import ChatPort
from bot.service import Core
from clipcrew.config import (
    blob_config,
    bot_config,
    discord_config,
    feed_config,
    redis_config,
    telegram_config,
    worker_config,
)
from clipcrew.metrics import sample_queues, serve_metrics
from clipcrew.settings import Settings
from engine.channels import make_events
from engine.context import WorkerContext, build_context, close_context
from engine.events import EventSource
from engine.jobs import run_job
from engine.lease import run_sweeper
from engine.light import ArqLight, InProcessLight, LightContext
from engine.moderation.task import warm_up
from engine.queue import JobQueue, LightCalls
from engine.queue_backends import make_queue
from engine.worker import run_worker_async
from storage.blob_stores import open_blobs
from storage.blobs import Blobs
from storage.db import Database, connect
from storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    blobs: Blobs
    core: Core
    queue: JobQueue
    local_chat_url: str | None = None
    # Where the feed pages listen (None: they could not be started).
    feed_url: str | None = None
    # The Prometheus endpoint (CLIPCREW_METRICS_LISTEN; None: not served).
    metrics_url: str | None = None
    # Stopped in reverse order.
    _closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)


async def start_services(
    settings: Settings,
    *,
    local_chat: bool = True,
    worker: bool | None = None,
    ports: Sequence[ChatPort] = (),
) -> Services:
    """Start the bot (and, when `worker` or when there is no Redis, the worker) in this process.

    `worker=None` means: run jobs here exactly when there is no Redis to hand them to. Every
    chat port is attached before the first event is read, so no reply finds its adapter missing.
    """
    run_worker_here = settings.redis_url is None if worker is None else worker
    db = connect(settings.db_url)
    closers: list[Callable[[], Awaitable[Any]]] = [db.close]
    try:
        await upgrade(db)
        sink, source = make_events(redis_config(settings))
        closers += [c for c in (getattr(sink, "close", None), getattr(source, "close", None)) if c]
        context = await _embedded_worker(settings, db, sink, closers) if run_worker_here else None
        services = await _build_core(settings, db, context, closers)
        for port in ports:
            services.core.attach(port)
        if local_chat:
            await _start_local_chat(services)
        await _start_chat_platforms(services)
        _start_core_loops(services, source)
        _start_metrics(services)
        await services.core.resume()
        _start_job_runner(services, context, run_worker_here=run_worker_here)
    except BaseException:
        await _close_all(closers)
        raise
    return services


async def _build_core(
    settings: Settings,
    db: Database,
    context: WorkerContext | None,
    closers: list[Callable[[], Awaitable[Any]]],
) -> Services:
    """The core and what it depends on: the job queue (running jobs here when `context` is
    this process's worker), blobs, light tasks and the feed pages."""
    queue = make_queue(
        redis_config(settings),
        partial(run_job, context) if context else None,
        concurrency=settings.worker_concurrency,
        timeout_s=settings.job_timeout_s,
    )
    closers.append(queue.close)
    blobs = open_blobs(blob_config(settings))
    light = _light_calls(settings, context)
    closers.append(light.close)
    if context is not None:
        # Light tasks run here: the prompt check's model loads now (seconds), so the first
        # prompt is answered within a second.
        await warm_up()
    feed_links, feed_url = await _start_feed(settings, db, blobs, closers)
    deps = Deps(
        db=db,
        queue=queue,
        blobs=blobs,
        light=light,
        config=bot_config(settings),
        feed_links=feed_links,
    )
    return Services(
        settings=settings,
        db=db,
        blobs=blobs,
        core=Core(deps),
        queue=queue,
        feed_url=feed_url,
        _closers=closers,
    )


def _start_core_loops(services: Services, source: EventSource) -> None:
    core = services.core
    services._tasks.append(asyncio.create_task(core.run_events(source), name="events"))
    # Cameo requests nobody answered in time are cancelled (and the requester told).
    services._tasks.append(asyncio.create_task(core.run_expiry(), name="consent-expiry"))
    # Jobs recorded while Redis was unreachable go to the queue once it is back.
    services._tasks.append(asyncio.create_task(core.run_requeue(), name="requeue"))


def _start_metrics(services: Services) -> None:
    settings = services.settings
    if not settings.metrics_listen:
        return
    metrics = serve_metrics(settings.metrics_listen)
    services.metrics_url = metrics.url
    services._closers.append(partial(asyncio.to_thread, metrics.close))
    sampling = sample_queues(
        services.db, redis_url=settings.redis_url, prefix=settings.redis_prefix
    )
    services._tasks.append(asyncio.create_task(sampling, name="metrics"))


def _start_job_runner(
    services: Services, context: WorkerContext | None, *, run_worker_here: bool
) -> None:
    """With Redis, a worker asked to run here is an arq worker; without, jobs already run on
    the in-process queue, and only leases need sweeping."""
    if run_worker_here and services.settings.redis_url is not None:
        worker = run_worker_async(worker_config(services.settings))
        services._tasks.append(asyncio.create_task(worker, name="arq-worker"))
    elif context is not None:
        # A job this process was rendering when it stopped is taken up again once its
        # lease runs out (the arq worker sweeps for itself).
        sweeper = _sweeper(context, services.queue)
        services._tasks.append(asyncio.create_task(sweeper, name="leases"))


async def _start_feed(
    settings: Settings, db: Database, blobs: Blobs, closers: list[Callable[[], Awaitable[Any]]]
) -> tuple[FeedLinks, str | None]:
    """The feed pages on their own listener. One that cannot listen (the port is taken) leaves
    the bot running without them, loudly: the chats work, only the links lead nowhere."""
    config = feed_config(settings)
    try:
        runner, links, url = await start_feed(config, db, blobs)
    except OSError as error:
        log.error("feed pages are off", extra={"reason": str(error)})
        return FeedLinks(config.secret, config.public_url or DEFAULT_PUBLIC_URL), None
    closers.append(runner.cleanup)
    return links, url


async def _embedded_worker(
    settings: Settings, db: Database, sink: Any, closers: list[Callable[[], Awaitable[Any]]]
) -> WorkerContext:
    context = await build_context(worker_config(settings), events=sink, db=db)
    closers.append(lambda: close_context(context))
    return context


async def _sweeper(context: WorkerContext, queue: JobQueue) -> None:
    await run_sweeper(
        context.db, lambda job_id, attempt: queue.enqueue(job_id, attempt=attempt), context.events
    )


def _light_calls(settings: Settings, context: WorkerContext | None) -> LightCalls:
    """Light tasks run here when the worker does (sharing its face model: loaded once), else
    on the light workers behind Redis; the bot itself never loads a model."""
    if context is None:
        assert settings.redis_url is not None
        return ArqLight.from_url(settings.redis_url, prefix=settings.redis_prefix)
    return InProcessLight(
        LightContext(
            db=context.db,
            blobs=context.blobs,
            faces=context.faces,
            owns_db=False,
            signer=context.signer,
        )
    )


async def _start_local_chat(services: Services) -> None:
    settings = services.settings
    runner, url = await start_local_chat(
        services.core,
        services.blobs,
        host=settings.local_chat_host,
        port=settings.local_chat_port,
        command=settings.command,
        secret=settings.secret_bytes(),
        admin=settings.local_admin,
    )
    services._closers.append(runner.cleanup)
    services.local_chat_url = url


async def _start_chat_platforms(services: Services) -> None:
    """Each platform whose token is set; each adapter attaches its port and returns its stop.
    Imported only then: each loads its chat library, which a process without its token skips."""
    settings = services.settings
    if settings.telegram_token is not None:
        from adapters.telegram import start_telegram

        stop = await start_telegram(services.core, services.blobs, telegram_config(settings))
        services._closers.append(stop)
    if settings.discord_token is not None:
        from adapters.discord import start_discord

        stop = await start_discord(services.core, services.blobs, discord_config(settings))
        services._closers.append(stop)


async def stop_services(services: Services) -> None:
    for task in services._tasks:
        if task.get_name() == "events":
            await services.core.stop_events(task)
        task.cancel()
    for task in services._tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await _close_all(services._closers)


async def _close_all(closers: list[Callable[[], Awaitable[Any]]]) -> None:
    for close in reversed(closers):
        try:
            await close()
        except Exception:
            log.exception("error while shutting down")

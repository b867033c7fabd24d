"""The `clipcrew` command line: serve, bot, worker, generate, verify, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from clipcrew.logs import setup_logging
from clipcrew.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"clipcrew: bad setting: {error}", file=sys.stderr)
        return 2
    return int(args.run(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clipcrew", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="bot, worker and local web chat in one process")
    serve.set_defaults(run=lambda s, a: _run_forever(s, worker=True))
    bot = commands.add_parser("bot", help="the bot and its chat adapters (jobs go to Redis)")
    bot.set_defaults(run=lambda s, a: _run_forever(s, worker=None))
    worker = commands.add_parser(
        "worker", help="an arq worker that renders clips (needs REDIS_URL)"
    )
    worker.add_argument(
        "--light",
        action="store_true",
        help="run the light tasks instead (selfie checks, refits, prompt checks; no GPU)",
    )
    worker.set_defaults(run=_worker)

    generate = commands.add_parser("generate", help="render one clip in the terminal")
    generate.add_argument("prompt")
    generate.add_argument("-o", "--output", type=Path, default=Path("clip.mp4"))
    generate.add_argument("--seed", type=int, default=None)
    generate.add_argument("--seconds", type=float, default=None)
    generate.add_argument("--width", type=int, default=None)
    generate.add_argument("--height", type=int, default=None)
    generate.add_argument("--fps", type=int, default=None)
    generate.add_argument("--frames", type=int, default=None, help="model engines: frame count")
    generate.add_argument("--steps", type=int, default=None, help="model engines: denoising steps")
    generate.add_argument("--author", default="you")
    generate.set_defaults(run=_generate)

    verify = commands.add_parser(
        "verify",
        help="trace a video to its clip: C2PA manifest, else fingerprint (exit 0 on a match)",
    )
    verify.add_argument("file", type=Path)
    verify.set_defaults(run=_verify)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply migrations up to the newest").set_defaults(
        run=_db_upgrade
    )
    return parser


def _run_forever(settings: Settings, *, worker: bool | None) -> int:
    from clipcrew.app import start_services, stop_services

    async def run() -> None:
        services = await start_services(settings, worker=worker)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if services.local_chat_url:
            print(f"clipcrew is up. Open the local chat: {services.local_chat_url}", flush=True)
        if services.feed_url:
            print(f"Feed pages (signed links from /feed): {services.feed_url}", flush=True)
        try:
            await stop.wait()
        finally:
            await stop_services(services)

    asyncio.run(run())
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.redis_url:
        print(
            "clipcrew worker needs REDIS_URL (without Redis, `clipcrew serve` runs jobs itself).",
            file=sys.stderr,
        )
        return 2
    from clipcrew.config import worker_config
    from engine.worker import run_worker

    if settings.worker_metrics_listen:
        asyncio.run(_measured_worker(settings, light=args.light))
        return 0
    run_worker(worker_config(settings), light=args.light)
    return 0


async def _measured_worker(settings: Settings, *, light: bool) -> None:
    """The worker with its Prometheus endpoint and the queue gauges sampled beside it."""
    from clipcrew.config import worker_config
    from clipcrew.metrics import sample_queues, serve_metrics
    from engine.worker import light_worker_settings, serve, worker_settings
    from storage.db import connect

    assert settings.worker_metrics_listen is not None
    config = worker_config(settings)
    metrics = serve_metrics(settings.worker_metrics_listen)
    db = connect(config.database_url)
    sampling = asyncio.create_task(
        sample_queues(db, redis_url=settings.redis_url, prefix=settings.redis_prefix)
    )
    try:
        await serve(light_worker_settings(config) if light else worker_settings(config))
    finally:
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        await db.close()
        metrics.close()


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.db import connect
    from storage.migrate import upgrade

    async def run() -> None:
        database = connect(settings.db_url)
        try:
            await upgrade(database)
        finally:
            await database.close()

    asyncio.run(run())
    print("database is up to date", flush=True)
    return 0


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from clipcrew.verify import run_verify

    return run_verify(settings, args)


def _generate(settings: Settings, args: argparse.Namespace) -> int:
    from clipcrew.render import render_to_file

    return render_to_file(settings, args)


if __name__ == "__main__":
    sys.exit(main())

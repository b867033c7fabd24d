"""Starting and stopping the Telegram bot inside clipcrew's own event loop.

PTB's `run_polling`/`run_webhook` own the loop and the process signals, so the pieces they call
are called here one by one: initialize → setMyCommands → start → updater (polling or webhook),
and the reverse on stop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from adapters.telegram.config import TelegramConfig
from adapters.telegram.handlers import Handlers
from adapters.telegram.logs import protect_token
from adapters.telegram.metrics import counted_request
from adapters.telegram.port import TelegramPort
from bot.ports import CorePort
from storage.blobs import Blobs

log = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
Stop = Callable[[], Awaitable[None]]

# A 429's retry_after is waited out this many times before a call is given up.
MAX_FLOOD_RETRIES = 5
# Reactions arrive only when asked for here, and only while the bot is a chat admin.
UPDATE_KINDS = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MESSAGE_REACTION,
    Update.MESSAGE_REACTION_COUNT,
]


def commands(command: str) -> list[BotCommand]:
    """What Telegram's command menu shows, registered with setMyCommands at start."""
    return [
        BotCommand(command, "Make a short video clip: /" + command + " <what should happen>"),
        BotCommand("help", "How to use the bot"),
        BotCommand("start", "Say hello and show how to use the bot"),
        BotCommand("cameo", "Record your cameo, or manage who may use it"),
        BotCommand(
            "feed", "This chat's clips: /feed, /feed new, /feed top, /feed @name, /feed #12"
        ),
        BotCommand("remix", "Remix a clip by its number: /remix 12 make it rain"),
        BotCommand("queue", "What waits in this chat, and roughly when each clip is done"),
        BotCommand("admin", "Chat admins: policy, ban, unban, limit, queue, purge, log"),
    ]


def build_application(config: TelegramConfig) -> TelegramApp:
    return (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_base)
        .base_file_url(config.file_api_base)
        # Every Bot API answer is counted for the metrics (errors, 429s).
        .request(counted_request())
        .rate_limiter(AIORateLimiter(max_retries=MAX_FLOOD_RETRIES))
        # A command waits on the database; one slow update must not hold up the others.
        .concurrent_updates(True)
        .build()
    )


async def start_telegram(
    core: CorePort,
    blobs: Blobs,
    config: TelegramConfig,
) -> Stop:
    """Attach the Telegram port to `core` and start receiving updates (a webhook when
    TELEGRAM_WEBHOOK_URL is set, long polling otherwise). Returns the function that stops it."""
    protect_token(config.token)
    application = build_application(config)
    secret = config.secret
    port = TelegramPort(application.bot, secret=secret)
    core.attach(port)
    Handlers(core=core, secret=secret, port=port, command=config.command).install(application)
    try:
        await application.initialize()  # getMe: a bad token fails here, loudly
        await application.bot.set_my_commands(commands(config.command))
        await application.start()
        await _receive_updates(application, config)
    except BaseException:
        await _stop(application)
        raise
    log.info("telegram: started", extra={"bot": application.bot.username})

    async def stop() -> None:
        await _stop(application)

    return stop


async def _receive_updates(application: TelegramApp, config: TelegramConfig) -> None:
    updater = application.updater
    assert updater is not None
    if config.webhook_url is None:
        await updater.start_polling(poll_interval=0, allowed_updates=UPDATE_KINDS)
        return
    host, _, port = config.webhook_listen.rpartition(":")
    await updater.start_webhook(
        listen=host,
        port=int(port),
        url_path=urlsplit(config.webhook_url).path.lstrip("/"),
        webhook_url=config.webhook_url,
        secret_token=config.webhook_token(),
        allowed_updates=UPDATE_KINDS,
    )


async def _stop(application: TelegramApp) -> None:
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()

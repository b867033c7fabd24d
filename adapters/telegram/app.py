"""Starting and stopping the Telegram bot inside clipcrew's own event loop.

PTB's `run_polling`/`run_webhook` own the loop and the process signals, so the pieces they call
are called here one by one: initialize → setMyCommands → start → updater (polling or webhook),
and the reverse on stop.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from adapters.telegram.handlers import Core, Handlers
from adapters.telegram.logs import protect_token
from adapters.telegram.port import TelegramPort
from clipcrew.settings import Settings
from storage.blobs import BlobStore

log = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
Stop = Callable[[], Awaitable[None]]

# Where PTB's webhook server listens unless told otherwise (8443 is one of the ports Telegram
# delivers webhooks to; behind a reverse proxy any port works).
DEFAULT_WEBHOOK_LISTEN = "0.0.0.0:8443"
# A 429's retry_after is waited out this many times before a call is given up.
MAX_FLOOD_RETRIES = 5
UPDATE_KINDS = [Update.MESSAGE, Update.CALLBACK_QUERY]


def commands(command: str) -> list[BotCommand]:
    """What Telegram's command menu shows, registered with setMyCommands at start."""
    return [
        BotCommand(command, "Make a short video clip: /" + command + " <what should happen>"),
        BotCommand("help", "How to use the bot"),
        BotCommand("start", "Say hello and show how to use the bot"),
        BotCommand("cameo", "Record your cameo, or manage who may use it"),
        BotCommand("feed", "The latest clips (coming soon)"),
    ]


def build_application(settings: Settings) -> TelegramApp:
    assert settings.telegram_token is not None
    return (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_base)
        .base_file_url(settings.telegram_file_api_base)
        .rate_limiter(AIORateLimiter(max_retries=MAX_FLOOD_RETRIES))
        # A command waits on the database; one slow update must not hold up the others.
        .concurrent_updates(True)
        .build()
    )


async def start_telegram(
    core: Core,
    blobs: BlobStore,
    settings: Settings,
    *,
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN,
) -> Stop:
    """Attach the Telegram port to `core` and start receiving updates (a webhook when
    TELEGRAM_WEBHOOK_URL is set, long polling otherwise). Returns the function that stops it."""
    assert settings.telegram_token is not None
    protect_token(settings.telegram_token.get_secret_value())
    application = build_application(settings)
    secret = settings.secret_bytes()
    core.attach(TelegramPort(application.bot, secret=secret))
    Handlers(core=core, secret=secret, command=settings.command).install(application)
    try:
        await application.initialize()  # getMe: a bad token fails here, loudly
        await application.bot.set_my_commands(commands(settings.command))
        await application.start()
        await _receive_updates(application, settings, webhook_listen)
    except BaseException:
        await _stop(application)
        raise
    log.info("telegram: started", extra={"bot": application.bot.username})

    async def stop() -> None:
        await _stop(application)

    return stop


async def _receive_updates(application: TelegramApp, settings: Settings, listen: str) -> None:
    updater = application.updater
    assert updater is not None
    if settings.telegram_webhook_url is None:
        await updater.start_polling(poll_interval=0, allowed_updates=UPDATE_KINDS)
        return
    host, _, port = listen.rpartition(":")
    await updater.start_webhook(
        listen=host,
        port=int(port),
        url_path=urlsplit(settings.telegram_webhook_url).path.lstrip("/"),
        webhook_url=settings.telegram_webhook_url,
        secret_token=webhook_secret(settings),
        allowed_updates=UPDATE_KINDS,
    )


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the server secret: a webhook without one
    would take updates from anyone who finds the URL."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    return hmac.new(settings.secret_bytes(), b"telegram-webhook", hashlib.sha256).hexdigest()


async def _stop(application: TelegramApp) -> None:
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()

"""Settings → each part's own small config. The only place (with clipcrew.app) that reads
`Settings`: the engine, the queues and the adapters are handed what they need, nothing more."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.deps import BotConfig
from clipcrew.settings import Settings
from engine.config import DiffusionOptions, FaceConfig, RedisConfig, WorkerConfig
from engine.provenance.config import ProvenanceConfig
from storage.blobs import BlobConfig

if TYPE_CHECKING:
    # Imported where used: a worker process must not load the chat libraries with them.
    from adapters.discord.config import DiscordConfig
    from adapters.feed.config import FeedConfig
    from adapters.telegram.config import TelegramConfig


def redis_config(settings: Settings) -> RedisConfig:
    return RedisConfig(url=settings.redis_url, prefix=settings.redis_prefix)


def blob_config(settings: Settings) -> BlobConfig:
    def plain(secret: SecretStr | None) -> str | None:
        return secret.get_secret_value() if secret is not None else None

    return BlobConfig(
        folder=settings.blob_dir,
        url=settings.blob_url,
        endpoint=settings.s3_endpoint,
        region=settings.s3_region,
        access_key=plain(settings.s3_access_key),
        secret_key=plain(settings.s3_secret_key),
    )


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        database_url=settings.db_url,
        redis=redis_config(settings),
        blobs=blob_config(settings),
        engine=settings.engine,
        diffusion=DiffusionOptions(
            model=settings.video_model or "",
            device=settings.device,
            dtype=settings.dtype,
            cpu_offload=settings.cpu_offload,
            vae_tiling=settings.vae_tiling,
            audio_model=settings.audio_model,
        ),
        faces=FaceConfig(
            backend=settings.face_backend,
            folder=settings.face_models,
            swapper=settings.swapper_model,
        ),
        voice=settings.tts_voice,
        concurrency=settings.worker_concurrency,
        job_timeout_s=settings.job_timeout_s,
        light_concurrency=settings.light_concurrency,
        grace_s=settings.worker_grace_s,
        provenance=provenance_config(settings),
    )


def provenance_config(settings: Settings) -> ProvenanceConfig:
    """The operator's certificate chain and key when set, else clipcrew's own CA (made on
    first use in the data folder)."""
    return ProvenanceConfig(
        cert_chain=settings.c2pa_cert,
        key=settings.c2pa_key,
        own_ca_dir=settings.data_dir / "c2pa",
        tsa_url=settings.c2pa_tsa_url,
    )


def bot_config(settings: Settings) -> BotConfig:
    return BotConfig(
        command=settings.command,
        max_prompt_chars=settings.max_prompt_chars,
        max_jobs_per_user=settings.max_jobs_per_user,
        engine=settings.engine,
        width=settings.clip_width,
        height=settings.clip_height,
        fps=settings.clip_fps,
        duration_s=settings.clip_seconds,
        consent_expiry_minutes=settings.consent_expiry_minutes,
        daily_clips_per_person=settings.daily_clips_per_person,
        daily_clips_per_chat=settings.daily_clips_per_chat,
    )


def feed_config(settings: Settings) -> FeedConfig:
    from adapters.feed.config import FeedConfig

    host, _, port = settings.feed_listen.rpartition(":")
    return FeedConfig(
        host=host,
        port=int(port),
        public_url=settings.public_url,
        secret=settings.secret_bytes(),
        link_ttl_s=settings.feed_link_days * 24 * 3600,
        command=settings.command,
    )


def telegram_config(settings: Settings) -> TelegramConfig:
    from adapters.telegram.config import TelegramConfig

    assert settings.telegram_token is not None
    secret = settings.telegram_webhook_secret
    return TelegramConfig(
        token=settings.telegram_token.get_secret_value(),
        secret=settings.secret_bytes(),
        command=settings.command,
        api_base=settings.telegram_api_base,
        file_api_base=settings.telegram_file_api_base,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        webhook_listen=settings.telegram_webhook_listen,
    )


def discord_config(settings: Settings) -> DiscordConfig:
    from adapters.discord.config import DiscordConfig

    assert settings.discord_token is not None
    return DiscordConfig(
        token=settings.discord_token.get_secret_value(),
        secret=settings.secret_bytes(),
        command=settings.command,
        api_base=settings.discord_api_base,
        gateway_url=settings.discord_gateway_url,
        guild_ids=guild_ids(settings.discord_guild_ids),
    )


def guild_ids(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValueError(
            f"DISCORD_GUILD_IDS must be comma-separated numbers, not {value!r}"
        ) from None

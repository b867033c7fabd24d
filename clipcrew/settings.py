"""The one settings object, read from the environment and `.env`.

The names are part of the project's interface (README lists them); change them only with a
migration note.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.policy import DEFAULT_PER_CHAT_DAILY, DEFAULT_PER_PERSON_DAILY
from storage.blobs import parse_s3_url
from storage.db import normalise_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("data"), validation_alias="CLIPCREW_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    engine: Literal["sketch", "diffusers"] = Field(
        default="sketch", validation_alias="CLIPCREW_ENGINE"
    )
    command: str = Field(default="sora", validation_alias="CLIPCREW_COMMAND")
    local_chat: str = Field(default="127.0.0.1:8765", validation_alias="CLIPCREW_LOCAL_CHAT")
    max_jobs_per_user: int = Field(default=2, ge=1, validation_alias="CLIPCREW_MAX_JOBS_PER_USER")
    max_prompt_chars: int = Field(default=1000, ge=1, validation_alias="CLIPCREW_MAX_PROMPT_CHARS")
    # Unset: the engine's own (the sketch engine's 512x512, 24 fps, 5 s; a model family's size,
    # rate and frame count). Set, they win and are checked against the engine's limits.
    clip_seconds: float | None = Field(
        default=None, gt=0, le=30, validation_alias="CLIPCREW_CLIP_SECONDS"
    )
    clip_width: int | None = Field(
        default=None, ge=64, le=1920, validation_alias="CLIPCREW_CLIP_WIDTH"
    )
    clip_height: int | None = Field(
        default=None, ge=64, le=1920, validation_alias="CLIPCREW_CLIP_HEIGHT"
    )
    clip_fps: int | None = Field(default=None, ge=4, le=60, validation_alias="CLIPCREW_CLIP_FPS")
    # How many jobs one worker process runs at once (the in-process queue uses it too).
    worker_concurrency: int = Field(default=1, ge=1, validation_alias="CLIPCREW_WORKER_CONCURRENCY")
    # How many light tasks (selfie checks, refits, prompt checks) one light worker runs at once.
    light_concurrency: int = Field(default=2, ge=1, validation_alias="CLIPCREW_LIGHT_CONCURRENCY")
    job_timeout_s: int = Field(default=600, ge=1, validation_alias="CLIPCREW_JOB_TIMEOUT")
    # SIGTERM to a worker: its running job may finish for this long, then another takes over.
    worker_grace_s: int = Field(default=60, ge=0, validation_alias="CLIPCREW_WORKER_GRACE")
    # Namespaces the Redis keys so that several deployments (or tests) can share one server.
    redis_prefix: str = Field(default="clipcrew", validation_alias="CLIPCREW_REDIS_PREFIX")
    # Signs button payloads; unset, a random one is made once and kept in the data folder.
    secret: SecretStr | None = Field(default=None, validation_alias="CLIPCREW_SECRET")

    # Shared blob storage: s3://bucket/prefix puts clips in an S3-compatible bucket, so a bot and
    # workers on other machines share them; unset, they live in the data folder. The S3 names
    # fall back to the standard AWS variables (unset credentials: an instance role, if any).
    blob_url: str | None = Field(default=None, validation_alias="CLIPCREW_BLOB_URL")
    s3_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("CLIPCREW_S3_ENDPOINT", "AWS_ENDPOINT_URL")
    )
    s3_region: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CLIPCREW_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    s3_access_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CLIPCREW_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
    )
    s3_secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CLIPCREW_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
    )

    # The diffusers engine (CLIPCREW_ENGINE=diffusers).
    video_model: str | None = Field(default=None, validation_alias="CLIPCREW_VIDEO_MODEL")
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", validation_alias="CLIPCREW_DEVICE"
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto", validation_alias="CLIPCREW_DTYPE"
    )
    cpu_offload: bool = Field(default=False, validation_alias="CLIPCREW_CPU_OFFLOAD")
    vae_tiling: bool = Field(default=False, validation_alias="CLIPCREW_VAE_TILING")
    # Ambience and effects (StableAudioPipeline or AudioLDM2Pipeline) for video models without
    # sound of their own; a local folder or a hub id, like CLIPCREW_VIDEO_MODEL.
    audio_model: str | None = Field(default=None, validation_alias="CLIPCREW_AUDIO_MODEL")
    # A Piper voice model file (`.onnx`, its `.onnx.json` beside it) speaks the dialogue;
    # unset, espeak-ng does. Used by every engine.
    tts_voice: str | None = Field(default=None, validation_alias="CLIPCREW_TTS_VOICE")

    # Cameos. The face model that verifies selfies and checks finished clips: dlib (offline,
    # CC0 weights, the default) or insightface (CLIPCREW_FACE_MODELS names a model pack folder
    # such as ~/.insightface/models/buffalo_l; its pretrained models are non-commercial only).
    face_backend: Literal["dlib", "insightface"] = Field(
        default="dlib", validation_alias="CLIPCREW_FACE_BACKEND"
    )
    face_models: Path | None = Field(default=None, validation_alias="CLIPCREW_FACE_MODELS")
    # inswapper_128.onnx: the diffusers engine swaps cameo faces into its frames with it.
    swapper_model: Path | None = Field(default=None, validation_alias="CLIPCREW_SWAPPER_MODEL")
    # The feed pages: their own listener (never the local chat's), the address their links use
    # (a reverse proxy's https://…; unset: the listener's own), and how long a link lasts.
    feed_listen: str = Field(default="127.0.0.1:8766", validation_alias="CLIPCREW_FEED_LISTEN")
    # Prometheus endpoints (host:port; port 0 picks a free one): the bot's (and `serve`'s), and
    # a worker's (each worker process on a host needs a port of its own). Unset: none.
    metrics_listen: str | None = Field(default=None, validation_alias="CLIPCREW_METRICS_LISTEN")
    worker_metrics_listen: str | None = Field(
        default=None, validation_alias="CLIPCREW_WORKER_METRICS_LISTEN"
    )
    public_url: str | None = Field(default=None, validation_alias="CLIPCREW_PUBLIC_URL")
    feed_link_days: int = Field(default=7, ge=1, le=365, validation_alias="CLIPCREW_FEED_LINK_DAYS")
    # How long a cameo owner has to answer a request before the clip is cancelled.
    consent_expiry_minutes: int = Field(
        default=30, ge=1, le=7 * 24 * 60, validation_alias="CLIPCREW_CONSENT_EXPIRY_MINUTES"
    )

    # Guardrails: the daily budgets of a chat whose admins set none (/admin limit), and who is
    # the local chat's admin (unset: the first person in the room).
    daily_clips_per_person: int = Field(
        default=DEFAULT_PER_PERSON_DAILY, ge=1, validation_alias="CLIPCREW_DAILY_CLIPS_PER_PERSON"
    )
    daily_clips_per_chat: int = Field(
        default=DEFAULT_PER_CHAT_DAILY, ge=1, validation_alias="CLIPCREW_DAILY_CLIPS_PER_CHAT"
    )
    local_admin: str | None = Field(default=None, validation_alias="CLIPCREW_LOCAL_ADMIN")

    # Provenance (C2PA). Unset, clipcrew makes its own CA and signing certificate in the data
    # folder (c2pa/, mode 0600) on first start; set both to sign with an operator's chain (PEM,
    # signing certificate first) and key. A timestamp authority is asked only when set.
    c2pa_cert: Path | None = Field(default=None, validation_alias="CLIPCREW_C2PA_CERT")
    c2pa_key: Path | None = Field(default=None, validation_alias="CLIPCREW_C2PA_KEY")
    c2pa_tsa_url: str | None = Field(default=None, validation_alias="CLIPCREW_C2PA_TSA_URL")

    # Telegram (adapters/telegram): started when TELEGRAM_TOKEN is set.
    telegram_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_TOKEN")
    telegram_api_base: str = Field(
        default="https://api.telegram.org/bot", validation_alias="TELEGRAM_API_BASE"
    )
    telegram_file_api_base: str = Field(
        default="https://api.telegram.org/file/bot", validation_alias="TELEGRAM_FILE_API_BASE"
    )
    telegram_webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    # Where the webhook server listens (behind your TLS proxy); TELEGRAM_WEBHOOK_URL is public.
    telegram_webhook_listen: str = Field(
        default="0.0.0.0:8443", validation_alias="TELEGRAM_WEBHOOK_LISTEN"
    )

    # Discord (adapters/discord): started when DISCORD_TOKEN is set.
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_api_base: str = Field(
        default="https://discord.com/api/v10", validation_alias="DISCORD_API_BASE"
    )
    discord_gateway_url: str | None = Field(default=None, validation_alias="DISCORD_GATEWAY_URL")
    discord_guild_ids: str = Field(default="", validation_alias="DISCORD_GUILD_IDS")

    @field_validator("command")
    @classmethod
    def _command_is_a_word(cls, value: str) -> str:
        value = value.strip().lstrip("/")
        if not value.isidentifier():
            raise ValueError("CLIPCREW_COMMAND must be a single word such as 'sora'")
        return value.lower()

    @field_validator("blob_url")
    @classmethod
    def _bucket_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parse_s3_url(value)  # BadBlobConfig is a ValueError: it names what is wrong
        return value

    @field_validator("local_chat")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError("CLIPCREW_LOCAL_CHAT must look like host:port, e.g. 127.0.0.1:8765")
        return value

    @field_validator("metrics_listen", "worker_metrics_listen")
    @classmethod
    def _metrics_host_port(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError("a metrics address must look like host:port, e.g. 127.0.0.1:9464")
        return value

    @field_validator("feed_listen")
    @classmethod
    def _feed_host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError("CLIPCREW_FEED_LISTEN must look like host:port, e.g. 127.0.0.1:8766")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("CLIPCREW_PUBLIC_URL must start with https:// (or http://)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _c2pa_pair(self) -> Settings:
        if (self.c2pa_cert is None) != (self.c2pa_key is None):
            raise ValueError("set both CLIPCREW_C2PA_CERT and CLIPCREW_C2PA_KEY, or neither")
        return self

    @cached_property
    def db_url(self) -> str:
        """`DATABASE_URL`, or a SQLite file in the data folder."""
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'clipcrew.db').resolve()}"

    def secret_bytes(self) -> bytes:
        """CLIPCREW_SECRET, or the random one kept in the data folder (made on first use)."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def local_chat_host(self) -> str:
        return self.local_chat.rpartition(":")[0]

    @property
    def local_chat_port(self) -> int:
        return int(self.local_chat.rpartition(":")[2])

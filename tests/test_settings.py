from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clipcrew.logs import JsonFormatter, redact
from clipcrew.settings import Settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "CLIPCREW_ENGINE",
        "CLIPCREW_COMMAND",
        "CLIPCREW_LOCAL_CHAT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLIPCREW_DATA_DIR", str(tmp_path))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.redis_url is None and settings.engine == "sketch"
    assert settings.command == "sora" and settings.local_chat == "127.0.0.1:8765"
    assert settings.db_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'clipcrew.db'}"


def test_env_names_and_url_normalising(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/clips")
    monkeypatch.setenv("CLIPCREW_COMMAND", "/Clip")
    monkeypatch.setenv("CLIPCREW_LOCAL_CHAT", "0.0.0.0:9000")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.db_url == "postgresql+asyncpg://u:p@db/clips"
    assert settings.command == "clip"
    assert (settings.local_chat_host, settings.local_chat_port) == ("0.0.0.0", 9000)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLIPCREW_ENGINE", "magic"),
        ("CLIPCREW_COMMAND", "two words"),
        ("CLIPCREW_LOCAL_CHAT", "no-port"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_logs_never_show_passwords_or_tokens() -> None:
    import logging

    assert redact("redis://:hunter2@host:6379/0") == "redis://:***@host:6379/0"
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "connecting to %s", ("postgresql://u:pw@h/db",), None
    )
    record.telegram_token = "123:ABC"
    line = JsonFormatter().format(record)
    assert "pw@" not in line and "123:ABC" not in line and '"telegram_token": "***"' in line


def test_the_button_secret_is_made_once_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CLIPCREW_SECRET", raising=False)
    monkeypatch.setenv("CLIPCREW_DATA_DIR", str(tmp_path))
    first = Settings(_env_file=None).secret_bytes()  # type: ignore[call-arg]
    assert len(first) == 64 and (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert Settings(_env_file=None).secret_bytes() == first  # type: ignore[call-arg]
    monkeypatch.setenv("CLIPCREW_SECRET", "from-the-environment")
    assert Settings(_env_file=None).secret_bytes() == b"from-the-environment"  # type: ignore[call-arg]

from __future__ import annotations

import pytest

from gateway.settings import Settings, SettingsError


def test_defaults_are_local_and_embedded() -> None:
    settings = Settings.from_env({})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert len(settings.web_session_secret) >= 32


def test_environment_overrides() -> None:
    settings = Settings.from_env({
        "GATEWAY_PORT": "9000", "REDIS_URL": "redis://127.0.0.1:6379/1",
        "RASA_URL": "http://127.0.0.1:5006/", "DATABASE_URL": "postgresql+asyncpg://x@y/z",
        "WEB_SESSION_SECRET": "s" * 40, "LOG_LEVEL": "debug"})
    assert settings.port == 9000
    assert settings.redis_url == "redis://127.0.0.1:6379/1"
    assert settings.rasa_url == "http://127.0.0.1:5006"
    assert settings.web_session_secret == "s" * 40
    assert settings.log_level == "DEBUG"


def test_bad_number_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_PORT must be an integer"):
        Settings.from_env({"GATEWAY_PORT": "eighty"})


def test_secret_is_not_in_repr() -> None:
    assert "s" * 40 not in repr(Settings.from_env({"WEB_SESSION_SECRET": "s" * 40}))

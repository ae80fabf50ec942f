"""Settings from environment variables, with local defaults (see the table in README.md)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from casedb.engine import DEFAULT_DATABASE_URL


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE_URL
    database_schema: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "legalbot"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    rasa_timeout: float = 30.0
    rasa_lock_lifetime: float = 60.0  # Rasa's TICKET_LOCK_LIFETIME (its default: 60 s)
    action_server_url: str = "http://127.0.0.1:5055"
    web_session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    web_session_ttl: int = 86400
    max_text_chars: int = 2000
    max_body_bytes: int = 64 * 1024
    dedup_ttl: int = 86400
    log_level: str = "INFO"
    log_format: str = "json"  # "json" (one object per line) or "text"
    reminders_enabled: bool = True
    reminder_interval: float = 60.0
    # Reliability and abuse limits (issue 10); a rate limit of 0 switches it off.
    rate_limit_sender: int = 20  # messages per minute per person (channel conversation)
    rate_limit_ip: int = 60  # web requests per minute per client IP
    outbox_interval: float = 5.0  # seconds between retries of unsent outbound messages
    outbox_max_attempts: int = 8  # then the message is recorded as failed for staff
    retention_days: int = 180  # message logs older than this are deleted (open cases kept)
    retention_interval: float = 3600.0  # seconds between retention runs in the gateway
    # The raw environment, read by each messaging platform's own settings (connectors/registry).
    channel_env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def get_int(name: str, default: int) -> int:
            raw = get(name, str(default))
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be an integer, got {raw!r}") from None

        def get_float(name: str, default: float) -> float:
            raw = get(name, str(default))
            try:
                return float(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a number, got {raw!r}") from None

        return cls(
            host=get("GATEWAY_HOST", defaults.host),
            port=get_int("GATEWAY_PORT", defaults.port),
            database_url=get("DATABASE_URL", defaults.database_url),
            database_schema=get("DATABASE_SCHEMA", "") or None,
            redis_url=get("REDIS_URL", "") or None,
            redis_prefix=get("REDIS_PREFIX", defaults.redis_prefix),
            rasa_url=get("RASA_URL", defaults.rasa_url).rstrip("/"),
            rasa_token=get("RASA_TOKEN", ""),
            rasa_timeout=get_float("RASA_TIMEOUT", defaults.rasa_timeout),
            rasa_lock_lifetime=get_float("TICKET_LOCK_LIFETIME", defaults.rasa_lock_lifetime),
            action_server_url=get("ACTION_SERVER_URL", defaults.action_server_url).rstrip("/"),
            web_session_secret=get("WEB_SESSION_SECRET", defaults.web_session_secret),
            web_session_ttl=get_int("WEB_SESSION_TTL", defaults.web_session_ttl),
            dedup_ttl=get_int("DEDUP_TTL", defaults.dedup_ttl),
            log_level=get("LOG_LEVEL", defaults.log_level).upper(),
            log_format=get("LOG_FORMAT", defaults.log_format).lower(),
            reminders_enabled=get("REMINDERS_ENABLED", "true").lower() not in (
                "0", "false", "no", "off"),
            reminder_interval=get_float("REMINDER_INTERVAL", defaults.reminder_interval),
            rate_limit_sender=get_int("RATE_LIMIT_SENDER", defaults.rate_limit_sender),
            rate_limit_ip=get_int("RATE_LIMIT_IP", defaults.rate_limit_ip),
            outbox_interval=get_float("OUTBOX_INTERVAL", defaults.outbox_interval),
            outbox_max_attempts=get_int("OUTBOX_MAX_ATTEMPTS", defaults.outbox_max_attempts),
            retention_days=get_int("RETENTION_DAYS", defaults.retention_days),
            retention_interval=get_float("RETENTION_INTERVAL", defaults.retention_interval),
            channel_env=dict(env),
        )

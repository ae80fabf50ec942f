"""Engine and session factory for the case database.

`DATABASE_URL` picks the backend: `sqlite+aiosqlite:///var/legalbot.db` (embedded default) or
`postgresql+asyncpg://user@host/db` (production).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/legalbot.db"


def create_engine(url: str, *, schema: str | None = None, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; `schema` sets the PostgreSQL search path (used by tests)."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and schema:
        connect_args["server_settings"] = {"search_path": schema}
    if parsed.get_backend_name() == "sqlite":
        # Wait for a competing writer instead of failing at once.
        connect_args["timeout"] = 30
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)

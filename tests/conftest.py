"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, a fake Rasa server.

PostgreSQL tests use database `test` on 127.0.0.1:5432 (TEST_POSTGRES_URL overrides), each test
in a schema of its own; Redis tests use 127.0.0.1:6379 (TEST_REDIS_URL) under a unique prefix.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casedb import migrate
from casedb.engine import create_engine, session_factory
from gateway.app import create_app
from gateway.settings import Settings

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    schema: str | None = None


async def _open_database(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'case.db'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        yield Database(url, engine, session_factory(engine))
        await engine.dispose()
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(POSTGRES_URL, schema=schema)
    try:
        await migrate.upgrade(engine)
        yield Database(POSTGRES_URL, engine, session_factory(engine), schema)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated case database, once on SQLite and once on PostgreSQL."""
    async for db in _open_database(request.param, tmp_path):
        yield db


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    async for db in _open_database("sqlite", tmp_path):
        yield db


@pytest.fixture
async def postgres_database(tmp_path: Path) -> AsyncIterator[Database]:
    """PostgreSQL only: for what SQLite cannot show (concurrent processes, row locks)."""
    async for db in _open_database("postgresql", tmp_path):
        yield db


@dataclass
class FakeRasa:
    """A loopback server speaking the Rasa REST channel and `/status`, for gateway tests."""

    replies: Callable[[dict[str, Any]], list[dict[str, Any]]] = field(
        default=lambda body: [{"text": f"收到:{body['message']}"}])
    token: str = "test-token"
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            self.received.append(body)
            if self.status != 200:
                return web.Response(status=self.status)
            return web.json_response(self.replies(body))

        async def status(request: web.Request) -> web.Response:
            if request.query.get("token") != self.token:
                return web.json_response({"message": "unauthorized"}, status=401)
            return web.json_response({"model_file": "current.tar.gz", "model_id": "x"})

        async def replace_events(request: web.Request) -> web.Response:
            if request.query.get("token") != self.token:
                return web.json_response({"message": "unauthorized"}, status=401)
            if await request.json() == []:
                self.erased.append(request.match_info["sender"])
            return web.json_response({"sender_id": request.match_info["sender"], "events": []})

        async def health(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        app.router.add_get("/status", status)
        app.router.add_put("/conversations/{sender}/tracker/events", replace_events)
        app.router.add_get("/health", health)  # doubles as the action server's health
        return app


@pytest.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


Client = TestClient[Any, Any]
GatewayFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
def gateway(aiohttp_client: Any, fake_rasa: FakeRasa) -> GatewayFactory:
    """Start the real gateway app on a test database, with Rasa and actions played by a fake."""
    async def start(db: Database, **overrides: Any) -> Client:
        values: dict[str, Any] = dict(
            database_url=db.url, database_schema=db.schema, rasa_url=fake_rasa.url,
            rasa_token=fake_rasa.token, action_server_url=fake_rasa.url,
            web_session_secret="x" * 40)
        values.update(overrides)
        client: Client = await aiohttp_client(create_app(Settings(**values)))
        return client
    return start

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import db as actions_db
from actions.greeting import ActionGreet
from casedb.directory import SAMPLE_DIRECTORY, parse_directory
from casedb.repositories import DirectoryRepository
from tests.actions.conftest import make_tracker
from tests.conftest import Database


@pytest.fixture
def action_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    actions_db.sessions.cache_clear()
    yield
    actions_db.sessions.cache_clear()


async def run_greet() -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionGreet().run(dispatcher, make_tracker(), {})
    assert events == []
    messages: list[dict[str, Any]] = dispatcher.messages
    return messages


async def test_greeting_counts_the_directory(
        database: Database, monkeypatch: pytest.MonkeyPatch, action_database: None) -> None:
    organisations, _ = parse_directory(SAMPLE_DIRECTORY)
    async with database.sessions.begin() as session:
        await DirectoryRepository(session).replace_all(organisations)
    monkeypatch.setenv("DATABASE_URL", database.url)
    if database.schema:
        monkeypatch.setenv("DATABASE_SCHEMA", database.schema)
    monkeypatch.setenv("BUREAU_NAME", "常州市司法局")

    [message] = await run_greet()

    assert message["text"].startswith("您好!我是常州市司法局的法律服务助手")
    assert "7家法律援助中心、3家公证处、3个法律服务联系点" in message["text"]
    await actions_db.sessions().kw["bind"].dispose()


async def test_greeting_without_a_database_still_greets(
        monkeypatch: pytest.MonkeyPatch, action_database: None) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/none")
    [message] = await run_greet()
    assert message["text"].startswith("您好!我是法律服务助手")
    assert "家法律援助中心" not in message["text"]

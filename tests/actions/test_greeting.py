from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import db as actions_db
from actions.greeting import ActionGreet
from casedb.directory import SAMPLE_DIRECTORY, parse_directory
from casedb.repositories import DirectoryRepository
from tests.conftest import Database


def make_tracker(text: str = "你好", intent: str = "greet") -> Tracker:
    return Tracker.from_dict({
        "sender_id": "web:test",
        "slots": {},
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.99}},
        "events": [],
        "paused": False,
        "latest_input_channel": "web",
    })


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

    assert message["response"] == "utter_greet"
    assert message["bureau"] == "常州市司法局"
    assert message["legal_aid_centres"] == 7
    assert message["notary_offices"] == 3
    assert message["contact_points"] == 3
    await actions_db.sessions().kw["bind"].dispose()


async def test_greeting_without_a_database_still_greets(
        monkeypatch: pytest.MonkeyPatch, action_database: None) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/none")
    [message] = await run_greet()
    assert message["response"] == "utter_greet_plain"

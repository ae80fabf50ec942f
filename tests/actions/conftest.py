from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker

from actions import db as actions_db
from tests.conftest import Database


def make_tracker(text: str = "你好", intent: str = "greet", *,
                 slots: dict[str, Any] | None = None,
                 events: list[dict[str, Any]] | None = None,
                 parse_data: dict[str, Any] | None = None) -> Tracker:
    """A tracker as the action server receives it, with only what a test cares about."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
    latest.update(parse_data or {})
    return Tracker.from_dict({
        "sender_id": "web:test", "slots": slots or {}, "latest_message": latest,
        "events": events or [], "paused": False, "latest_input_channel": "web",
    })


@pytest.fixture
def action_db(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The action server's database handle pointed at the test database (SQLite, PostgreSQL)."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    if database.schema:
        monkeypatch.setenv("DATABASE_SCHEMA", database.schema)
    actions_db.sessions.cache_clear()
    yield database
    actions_db.sessions.cache_clear()

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


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

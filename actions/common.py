"""Small helpers every capability's actions share: who is talking, phone numbers, slot resets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

_MOBILE = re.compile(r"1[3-9]\d{9}")
_FOUR_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def sender(tracker: Tracker) -> tuple[str, str]:
    """The gateway's Rasa sender id "web:abc" → ("web", "abc")."""
    channel, _, external_id = tracker.sender_id.partition(":")
    return channel, external_id


def mobile_number(text: str) -> str | None:
    """A mainland mobile number in what someone typed ("139 1234-5678"), or None."""
    match = _MOBILE.search(re.sub(r"[\s\-—_]", "", text))
    return match.group(0) if match else None


def last_four(text: str) -> str | None:
    """Exactly four digits standing alone ("尾号 5678"), or None."""
    match = _FOUR_DIGITS.search(text.replace(" ", ""))
    return match.group(1) if match else None


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else phone


def reset_events(names: Iterable[str]) -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in names]

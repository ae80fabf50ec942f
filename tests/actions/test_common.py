from __future__ import annotations

import pytest

from actions.common import last_four, mask_phone, mobile_number, sender
from tests.actions.conftest import make_tracker


@pytest.mark.parametrize(("text", "phone"), [
    ("13912345678", "13912345678"), ("我的电话 139 1234-5678", "13912345678"),
    ("12345678901", None), ("1391234567", None), ("", None),
])
def test_mobile_numbers(text: str, phone: str | None) -> None:
    assert mobile_number(text) == phone


@pytest.mark.parametrize(("text", "digits"), [
    ("5678", "5678"), ("尾号 5678", "5678"), ("56789", None), ("567", None),
])
def test_last_four(text: str, digits: str | None) -> None:
    assert last_four(text) == digits


def test_sender_and_mask() -> None:
    tracker = make_tracker()
    tracker.sender_id = "wecom:zhangsan"
    assert sender(tracker) == ("wecom", "zhangsan")
    assert mask_phone("13912345678") == "139****5678"

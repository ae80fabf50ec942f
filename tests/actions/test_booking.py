"""The booking dialogue's actions on a real database, at a fixed time (actions.booking.now)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import booking
from actions import db as actions_db
from actions.booking import (
    ActionAskBookingConfirm,
    ActionBookingLookup,
    ActionSubmitBooking,
    ValidateBookingForm,
    ValidateBookingLookupForm,
)
from casedb.lookups import MAX_FAILED_TRIES
from domain.booking import SHANGHAI
from tests.actions.conftest import make_tracker
from tests.casedb.test_bookings import load_sample
from tests.conftest import Database

NOW = datetime(2026, 9, 23, 10, 0, tzinfo=SHANGHAI)  # Wednesday
POINT = "CP-WJ-HT"  # sample: mon-fri 09:00-11:30,14:00-17:00, 30 minutes, 2 per slot
SLOT = "2026-09-24T14:00:00+08:00"
FORM = {"booking_topic": "labour", "booking_district": "武进区"}


@pytest.fixture
async def sample(action_db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    monkeypatch.setattr(booking, "now", lambda: NOW.astimezone(UTC))
    await load_sample(action_db)
    yield
    await actions_db.sessions().kw["bind"].dispose()


def texts_of(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(str(m.get("text")) for m in dispatcher.messages)


def test_answers_are_validated() -> None:
    form, dispatcher, tracker = ValidateBookingForm(), CollectingDispatcher(), make_tracker()
    assert form.validate_booking_topic("ip", dispatcher, tracker, {}) == {"booking_topic": "ip"}
    assert form.validate_booking_topic("tax", dispatcher, tracker, {}) == {"booking_topic": None}
    assert form.validate_booking_phone("139 1234 5678", dispatcher, tracker, {}) == {
        "booking_phone": "13912345678"}
    assert form.validate_booking_phone("12345", dispatcher, tracker, {}) == {
        "booking_phone": None}
    lookup = ValidateBookingLookupForm()
    assert lookup.validate_booking_code("编号yy7k3m9qxa", dispatcher, tracker, {}) == {
        "booking_code": "YY-7K3M9QXA"}
    assert lookup.validate_booking_code("FY-7K3M9QXA", dispatcher, tracker, {}) == {
        "booking_code": None}
    assert lookup.validate_booking_last4("尾号 5678", dispatcher, tracker, {}) == {
        "booking_last4": "5678"}
    assert lookup.validate_booking_last4("567", dispatcher, tracker, {}) == {
        "booking_last4": None}
    assert len(dispatcher.messages) == 4


async def test_a_time_in_the_first_message_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(booking, "now", lambda: NOW.astimezone(UTC))
    form, dispatcher = ValidateBookingForm(), CollectingDispatcher()
    said = "我想预约明天下午两点的劳动用工咨询"
    assert await form.extract_booking_when(dispatcher, make_tracker(said, "book_consultation"),
                                           {}) == {"booking_when": said}
    assert await form.extract_booking_when(
        dispatcher, make_tracker("我想预约咨询", "book_consultation"), {}) == {}
    # Answering another question does not overwrite the time.
    tracker = make_tracker("明天上午", "inform", slots={"booking_when": "后天"})
    assert await form.extract_booking_when(dispatcher, tracker, {}) == {}
    # Instead of a button, a new time while the slots are offered.
    tracker = make_tracker("那下周一上午呢", "inform", slots={"requested_slot": "booking_slot"})
    assert await form.extract_booking_when(dispatcher, tracker, {}) == {
        "booking_when": "那下周一上午呢"}
    # A holiday (中秋节) is kept then, so that its validation explains; not in a first message.
    tracker = make_tracker("后天上午", "inform", slots={"requested_slot": "booking_slot"})
    assert await form.extract_booking_when(dispatcher, tracker, {}) == {"booking_when": "后天上午"}
    assert await form.extract_booking_when(dispatcher, make_tracker("后天上午预约", "inform"),
                                           {}) == {}
    tracker = make_tracker("好的", "affirm", slots={"requested_slot": "booking_slot"})
    assert await form.extract_booking_when(dispatcher, tracker, {}) == {}


async def test_a_free_exact_time_is_taken(sample: None) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateBookingForm().validate_booking_when(
        "明天下午两点", dispatcher, make_tracker("明天下午两点", "inform", slots=FORM), {})
    assert result == {"booking_when": "明天下午两点", "booking_point": POINT,
                      "booking_slot": SLOT}
    assert dispatcher.messages == []


async def test_a_closed_time_offers_the_nearest_slots(sample: None) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateBookingForm().validate_booking_when(
        "明天晚上八点", dispatcher, make_tracker("明天晚上八点", "inform", slots=FORM), {})
    assert result["booking_slot"] is None and result["booking_point"] == POINT
    buttons = dispatcher.messages[0]["buttons"]
    assert 1 <= len(buttons) <= 3
    assert all(b["payload"].startswith('/inform{"booking_slot": "2026-') for b in buttons)


async def test_an_impossible_time_is_asked_again(sample: None) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateBookingForm().validate_booking_when(
        "13月1号", dispatcher, make_tracker("13月1号", "inform", slots=FORM), {})
    assert result["booking_when"] is None
    assert len(dispatcher.messages) == 1


async def test_a_district_after_the_time_offers_the_slot(sample: None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("武进区", "inform",
                           slots={"booking_topic": "ip", "booking_when": "明天下午两点"})
    result = await ValidateBookingForm().validate_booking_district(
        "武进区", dispatcher, tracker, {})
    assert result["booking_district"] == "武进区" and result["booking_slot"] == SLOT


async def test_an_offered_slot_is_chosen(sample: None) -> None:
    form, dispatcher = ValidateBookingForm(), CollectingDispatcher()
    tracker = make_tracker(slots={"booking_point": POINT})
    assert form.validate_booking_slot(SLOT, dispatcher, tracker, {}) == {"booking_slot": SLOT}
    assert form.validate_booking_slot("2026-09-22T14:00:00+08:00", dispatcher, tracker,
                                      {}) == {"booking_slot": None}


def filled(**extra: Any) -> dict[str, Any]:
    return {**FORM, "booking_when": "明天下午两点", "booking_point": POINT, "booking_slot": SLOT,
            "booking_phone": "13912345678", **extra}


async def submit(slots: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitBooking().run(dispatcher, make_tracker(slots=slots), {})
    return texts_of(dispatcher), events


async def look_up(code: str, last4: str, intent: str, who: str = "test") -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"booking_code": code, "booking_last4": last4,
                                  "booking_lookup_intent": intent})
    tracker.sender_id = f"web:{who}"
    events = await ActionBookingLookup().run(dispatcher, tracker, {})
    assert {e["name"] for e in events} == {"booking_code", "booking_last4",
                                           "booking_lookup_intent"}
    return dispatcher


async def test_book_check_and_cancel(sample: None) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskBookingConfirm().run(dispatcher, make_tracker(slots=filled()), {})
    summary = texts_of(dispatcher)
    assert "武进高新区法律服务联系点" in summary and "示例园区服务中心2楼" in summary
    assert "9月24日(周四)14:00" in summary and "劳动用工" in summary
    assert "139****5678" in summary

    said, events = await submit(filled(booking_confirm=True))
    assert "YY-" in said and "9月24日(周四)14:00" in said and "前一个工作日会提醒您" in said
    assert all(e["value"] is None for e in events)
    code = next(word for word in said.replace(":", " ").split() if word.startswith("YY-"))

    assert "已预约" in texts_of(await look_up(code, "5678", "check"))
    assert "没有找到" in texts_of(await look_up(code, "0000", "check"))
    assert "已为您取消" in texts_of(await look_up(code, "5678", "cancel"))
    assert "之前已经取消" in texts_of(await look_up(code, "5678", "cancel"))
    assert "已取消" in texts_of(await look_up(code, "5678", "check"))


async def test_a_declined_booking_is_not_stored(sample: None) -> None:
    said, events = await submit(filled(booking_confirm=False))
    assert "没有为您预约" in said
    assert all(e["value"] is None for e in events)


async def test_a_slot_taken_meanwhile_goes_back_to_the_form(sample: None) -> None:
    for phone in ("13900000001", "13900000002"):  # capacity 2
        said, _ = await submit(filled(booking_confirm=True, booking_phone=phone))
        assert "YY-" in said
    said, events = await submit(filled(booking_confirm=True))
    assert "约满" in said
    assert {"event": "followup", "name": "booking_form"} in [
        {"event": e["event"], "name": e.get("name")} for e in events]
    kept = {e["name"] for e in events if e["event"] == "slot"}
    assert kept == {"booking_slot", "booking_confirm"}


async def test_too_many_wrong_tries_lock_the_look_up(sample: None) -> None:
    for _ in range(MAX_FAILED_TRIES):
        assert "没有找到" in texts_of(await look_up("YY-7K3M9QXA", "0000", "check"))
    locked = await look_up("YY-7K3M9QXA", "5678", "cancel")
    assert "失败次数过多" in texts_of(locked)
    assert locked.messages[0]["buttons"] == [{"title": "转人工", "payload": "/request_human"}]

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
    ActionAskBookingMoveConfirm,
    ActionBookingLookup,
    ActionSubmitBooking,
    ActionSubmitBookingMove,
    ValidateBookingForm,
    ValidateBookingLookupForm,
    ValidateBookingMoveForm,
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
                      "booking_slot": SLOT, "booking_confirm": None}
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


def slot_events(**slots: Any) -> list[dict[str, Any]]:
    """The events of one user turn that set `slots` (what `slots_to_validate` reads)."""
    return [{"event": "user", "text": "", "parse_data": {}},
            *({"event": "slot", "name": name, "value": value} for name, value in slots.items())]


async def test_a_time_corrected_at_the_phone_question_is_offered_anew(sample: None) -> None:
    form, dispatcher = ValidateBookingForm(), CollectingDispatcher()
    chosen = {**FORM, "booking_when": "明天下午两点", "booking_point": POINT,
              "booking_slot": SLOT}
    for requested in ("booking_phone", "booking_confirm"):
        tracker = make_tracker("不对,改成下周一上午十点", "inform",
                               slots={**chosen, "requested_slot": requested})
        assert await form.extract_booking_when(dispatcher, tracker, {}) == {
            "booking_when": "不对,改成下周一上午十点"}
    # A phone number is an answer, not a time; nor is a plain yes.
    for said, intent in (("13912345678", "inform"), ("好的", "affirm")):
        tracker = make_tracker(said, intent, slots={**chosen, "requested_slot": "booking_phone"})
        assert await form.extract_booking_when(dispatcher, tracker, {}) == {}
    # The corrected time is offered at the same contact point and must be confirmed again.
    tracker = make_tracker("不对,改成下周一上午十点", "inform",
                           slots={**chosen, "booking_confirm": False})
    result = await form.validate_booking_when("不对,改成下周一上午十点", dispatcher, tracker, {})
    assert result["booking_slot"] == "2026-09-28T10:00:00+08:00"
    assert result["booking_confirm"] is None
    # The text also reached the phone question: no "wrong number" complaint then.
    tracker = make_tracker("不对,改成下周一上午十点", "inform",
                           events=slot_events(booking_when="不对,改成下周一上午十点",
                                              booking_phone="不对,改成下周一上午十点"))
    assert form.validate_booking_phone("不对,改成下周一上午十点", dispatcher, tracker, {}) == {
        "booking_phone": None}
    assert dispatcher.messages == []


async def test_a_district_corrected_after_the_slot_offers_there(sample: None) -> None:
    dispatcher = CollectingDispatcher()
    chosen = {**FORM, "booking_when": "明天下午两点", "booking_point": POINT,
              "booking_slot": SLOT}
    tracker = make_tracker("换到天宁区吧", "inform",
                           slots={**chosen, "booking_district": "天宁区"})
    result = await ValidateBookingForm().validate_booking_district(
        "天宁区", dispatcher, tracker, {})
    assert result["booking_district"] == "天宁区"
    assert result["booking_point"] == "CP-TN-KC" and result["booking_slot"] == SLOT
    # The same district again keeps the chosen slot.
    tracker = make_tracker("武进区", "inform", slots=chosen)
    assert await ValidateBookingForm().validate_booking_district(
        "武进区", dispatcher, tracker, {}) == {"booking_district": "武进区"}


async def move_form_step(slot: str, value: str, slots: dict[str, Any],
                         who: str = "test") -> tuple[dict[str, Any], str]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(value, "inform", slots=slots)
    tracker.sender_id = f"web:{who}"
    form = ValidateBookingMoveForm()
    validate = getattr(form, f"validate_{slot}")
    result = validate(value, dispatcher, tracker, {})
    if not isinstance(result, dict):
        result = await result
    return result, texts_of(dispatcher)


async def book_one() -> str:
    said, _ = await submit(filled(booking_confirm=True))
    return next(word for word in said.replace(":", " ").split() if word.startswith("YY-"))


async def test_a_booking_is_moved_after_its_code_is_checked(sample: None) -> None:
    code = await book_one()
    result, said = await move_form_step("booking_code", f"编号{code.lower()}", {})
    assert result == {"booking_code": code}
    result, said = await move_form_step("booking_last4", "0000", {"booking_code": code})
    assert result == {"booking_code": None, "booking_last4": None} and "再输入一次" in said
    result, said = await move_form_step("booking_last4", "5678", {"booking_code": code})
    assert result == {"booking_last4": "5678", "booking_point": POINT}
    assert "找到了您的预约" in said and "9月24日(周四)14:00" in said
    moving = {"booking_code": code, "booking_last4": "5678", "booking_point": POINT}
    result, said = await move_form_step("booking_when", "下周一上午十点", moving)
    new_slot = "2026-09-28T10:00:00+08:00"
    assert result["booking_slot"] == new_slot and said == ""

    moving.update(booking_when="下周一上午十点", booking_slot=new_slot)
    dispatcher = CollectingDispatcher()
    await ActionAskBookingMoveConfirm().run(dispatcher, make_tracker(slots=moving), {})
    assert f"把预约 {code} 改到 9月28日(周一)10:00" in texts_of(dispatcher)

    dispatcher = CollectingDispatcher()
    events = await ActionSubmitBookingMove().run(
        dispatcher, make_tracker(slots={**moving, "booking_confirm": True}), {})
    assert "改约成功" in texts_of(dispatcher) and "9月28日(周一)10:00" in texts_of(dispatcher)
    assert all(e["value"] is None for e in events)
    assert "9月28日(周一)10:00" in texts_of(await look_up(code, "5678", "check"))

    dispatcher = CollectingDispatcher()
    await ActionSubmitBookingMove().run(
        dispatcher, make_tracker(slots={**moving, "booking_confirm": False}), {})
    assert "保持原来的时间不变" in texts_of(dispatcher)


async def test_a_move_to_a_full_slot_offers_others(sample: None) -> None:
    code = await book_one()
    for phone in ("13900000001", "13900000002"):  # capacity 2 at 9月28日 10:00
        said, _ = await submit(filled(booking_confirm=True, booking_phone=phone,
                                      booking_slot="2026-09-28T10:00:00+08:00"))
        assert "YY-" in said
    moving = {"booking_code": code, "booking_last4": "5678", "booking_point": POINT}
    result, said = await move_form_step("booking_when", "下周一上午十点", moving)
    assert result["booking_slot"] is None and "约满" in said


async def test_a_cancelled_or_locked_booking_ends_the_move(sample: None) -> None:
    code = await book_one()
    assert "已为您取消" in texts_of(await look_up(code, "5678", "cancel"))
    result, said = await move_form_step("booking_last4", "5678", {"booking_code": code})
    assert result["requested_slot"] is None and result["booking_code"] is None
    assert "已经取消,不能改约" in said
    for _ in range(MAX_FAILED_TRIES):
        await move_form_step("booking_last4", "0000", {"booking_code": code}, who="locked")
    result, said = await move_form_step("booking_last4", "5678", {"booking_code": code},
                                        who="locked")
    assert result["requested_slot"] is None and "失败次数过多" in said
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitBookingMove().run(dispatcher, make_tracker(slots=result), {})
    assert dispatcher.messages == [] and all(e["value"] is None for e in events)

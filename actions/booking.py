"""Consultation bookings at legal-service contact points (issue 5): book, check, cancel.

Thin on purpose: times are read by `domain.booking.resolve`, slots are offered and booked by
`casedb.bookings.BookingService`; the look-up by `YY-` code and the phone's last 4 digits
shares the failed-try limit of the legal aid status look-up.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import last_four, mask_phone, mobile_number, reset_events, sender
from actions.db import sessions
from actions.texts import buttons as text_buttons
from actions.texts import text
from casedb.bookings import BookingService, Lookup, LookupStatus
from casedb.models import ContactPoint
from casedb.references import find_reference
from domain.booking import SHANGHAI, Match, Problem, Slot, Unresolved, resolve, texts

log = logging.getLogger(__name__)

TOPICS = ("labour", "contract", "ip", "foreign_trade", "investment", "corporate_governance",
          "land_demolition")
DISTRICTS = ("天宁区", "钟楼区", "新北区", "武进区", "金坛区", "溧阳市")
FORM_SLOTS = ("booking_topic", "booking_district", "booking_when", "booking_slot",
              "booking_phone", "booking_confirm", "booking_point")
LOOKUP_SLOTS = ("booking_code", "booking_last4", "booking_lookup_intent")
MOVE_SLOTS = ("booking_code", "booking_last4", "booking_when", "booking_slot", "booking_confirm",
              "booking_point")
# Questions at which a new time is taken as a correction of the one already chosen.
CORRECTABLE = ("booking_phone", "booking_confirm")


def now() -> datetime:
    """The clock of the booking actions (tests monkeypatch it)."""
    return datetime.now(UTC)


def service() -> BookingService:
    return BookingService(sessions(), clock=lambda: now())


def slot_time(start: datetime) -> str:
    return Slot(start.astimezone(SHANGHAI), 0).describe(now())


def slot_buttons(match: Match) -> list[dict[str, str]]:
    return [{"title": slot.describe(now()),
             "payload": "/inform" + json.dumps({"booking_slot": slot.start.isoformat()})}
            for slot in match.choices[:3]]


async def pick_point(svc: BookingService, district: str | None,
                     topic: str | None) -> ContactPoint | None:
    """The first contact point for the topic in the district, else any in the district, else
    any at all."""
    for query in ({"district": district, "topic": topic}, {"district": district}, {}):
        points = await svc.contact_points(**query)
        if points:
            return points[0]
    return None


async def find_point(svc: BookingService, code: str | None) -> ContactPoint | None:
    for point in await svc.contact_points():
        if point.organisation.code == code:
            return point
    return None


async def offer(dispatcher: CollectingDispatcher, tracker: Tracker, when: str,
                point_code: str | None = None) -> dict[str, Any]:
    """Resolve the wish and meet it at the contact point (`point_code`, else the one chosen by
    district and topic): the slot, or the nearest free ones as buttons."""
    wish = resolve(when, now())
    if isinstance(wish, Unresolved):
        dispatcher.utter_message(text=wish.question)
        return {"booking_when": None, "booking_slot": None}
    svc = service()
    if point_code is None:
        point = await pick_point(svc, tracker.get_slot("booking_district"),
                                 tracker.get_slot("booking_topic"))
        if point is None:
            dispatcher.utter_message(text=text("booking.no_points"))
            return {"booking_when": None, "booking_slot": None}
        point_code = point.organisation.code
    code = point_code
    found = await svc.offer(code, wish)
    if found.slot is not None:
        return {"booking_when": when, "booking_point": code,
                "booking_slot": found.slot.start.isoformat()}
    dispatcher.utter_message(text=found.message or text("booking.no_slot"),
                             buttons=slot_buttons(found))
    return {"booking_when": when, "booking_point": code, "booking_slot": None}


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def extract_booking_when(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        """A time said outside its own question: in the first message ("下周三上午想预约"), or
        instead of choosing one of the offered slots."""
        requested = tracker.get_slot("requested_slot")
        if requested == "booking_when":
            return {}  # the from_text mapping has it
        if requested == "booking_slot":
            entities = tracker.latest_message.get("entities") or []
            if any(e.get("entity") == "booking_slot" for e in entities):
                return {}
        elif tracker.get_slot("booking_when") is not None and requested not in CORRECTABLE:
            return {}
        raw = (tracker.latest_message.get("text") or "").strip()
        if not raw or raw.startswith("/") or mobile_number(raw) is not None:
            return {}
        found = resolve(raw, now())
        if isinstance(found, Unresolved) and (requested != "booking_slot" or found.problem in (
                Problem.EMPTY, Problem.UNPARSEABLE)):
            return {}
        # While slots are offered, a time that cannot be booked still gets its question back.
        return {"booking_when": raw}

    def validate_booking_topic(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in TOPICS:
            return {"booking_topic": value}
        dispatcher.utter_message(text=text("booking.invalid.topic"))
        return {"booking_topic": None}

    async def validate_booking_district(self, value: Any, dispatcher: CollectingDispatcher,
                                        tracker: Tracker,
                                        domain: DomainDict) -> dict[str, Any]:
        if value not in DISTRICTS:
            dispatcher.utter_message(text=text("booking.invalid.district"))
            return {"booking_district": None}
        when = tracker.get_slot("booking_when")
        if not when or "booking_when" in tracker.slots_to_validate():
            return {"booking_district": value}  # the time's own validation offers
        chosen = tracker.get_slot("booking_slot")
        point = await find_point(service(), tracker.get_slot("booking_point"))
        # A time given before the district, or a district corrected after a slot was chosen
        # elsewhere: offer for the same time in this district.
        if chosen is None or point is None or point.organisation.district != value:
            tracker.slots["booking_district"] = value
            return {"booking_district": value, "booking_slot": None, "booking_confirm": None,
                    **await offer(dispatcher, tracker, str(when))}
        return {"booking_district": value}

    async def validate_booking_when(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("booking_district") in DISTRICTS:
            # A new time (also a correction at the phone or confirm question) is confirmed anew.
            return {"booking_confirm": None, **await offer(dispatcher, tracker, str(value))}
        wish = resolve(str(value), now())
        if isinstance(wish, Unresolved):
            dispatcher.utter_message(text=wish.question)
            return {"booking_when": None}
        return {"booking_when": str(value)}  # offered once the district is known

    def validate_booking_slot(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        try:
            start = datetime.fromisoformat(str(value))
        except ValueError:
            start = None
        if start is None or start.tzinfo is None or start <= now() or \
                not tracker.get_slot("booking_point"):
            dispatcher.utter_message(text=text("booking.invalid.slot"))
            return {"booking_slot": None}
        return {"booking_slot": start.astimezone(SHANGHAI).isoformat()}

    def validate_booking_phone(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        phone = mobile_number(str(value))
        if phone is None and "booking_when" not in tracker.slots_to_validate():
            dispatcher.utter_message(text=text("booking.invalid.phone"))
        # (with a corrected time instead of a number, the offer is the answer)
        return {"booking_phone": phone}


async def booking_summary(slots: dict[str, Any]) -> str:
    point = await find_point(service(), slots.get("booking_point"))
    start = datetime.fromisoformat(str(slots.get("booking_slot")))
    return text("booking.summary",
                point=point.organisation.name if point else slots.get("booking_point"),
                address=point.organisation.address if point else "",
                when=slot_time(start),
                topic=texts().topic(str(slots.get("booking_topic") or "")),
                phone=mask_phone(str(slots.get("booking_phone") or "")))


class ActionAskBookingConfirm(Action):
    def name(self) -> str:
        return "action_ask_booking_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=text("booking.confirm",
                                           summary=await booking_summary(tracker.slots)),
                                 buttons=text_buttons("booking.confirm_buttons"))
        return []


class ActionSubmitBooking(Action):
    def name(self) -> str:
        return "action_submit_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        if not tracker.get_slot("booking_confirm"):
            dispatcher.utter_message(text=text("booking.not_booked"))
            return reset_events(FORM_SLOTS)
        slots = tracker.slots
        channel, external_id = sender(tracker)
        svc = service()
        code = str(slots["booking_point"])
        result = await svc.book(code, datetime.fromisoformat(str(slots["booking_slot"])),
                                phone=str(slots["booking_phone"]), channel=channel,
                                external_id=external_id, topic=slots.get("booking_topic"))
        if result.booking is None:
            # Taken in the meantime: keep the answers and go back to the form, whose validation
            # offers the free slots nearest to the same wish as buttons.
            dispatcher.utter_message(text=text("booking.taken"))
            return [SlotSet("booking_slot", None), SlotSet("booking_confirm", None),
                    FollowupAction("booking_form")]
        booking = result.booking
        point = await find_point(svc, code)
        dispatcher.utter_message(text=text(
            "booking.booked", code=booking.code, when=slot_time(booking.slot_start),
            point=point.organisation.name if point else code,
            address=point.organisation.address if point else "",
            last4=booking.phone[-4:]))
        return reset_events(FORM_SLOTS)


class ActionBookingReset(Action):
    """Forget the booking answers (the person left the form)."""

    def name(self) -> str:
        return "action_booking_reset"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        return reset_events(FORM_SLOTS + LOOKUP_SLOTS)


class ValidateBookingLookupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_lookup_form"

    def validate_booking_code(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        code = find_reference(str(value), "YY")
        if code is None:
            dispatcher.utter_message(text=text("booking.lookup.invalid_code"))
        return {"booking_code": code}

    def validate_booking_last4(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        digits = last_four(str(value))
        if digits is None:
            dispatcher.utter_message(text=text("booking.lookup.invalid_last4"))
        return {"booking_last4": digits}


async def describe_lookup(found: Lookup) -> str:
    booking, point = found.booking, found.point
    assert booking is not None
    return text("booking.lookup.found", code=booking.code, when=slot_time(booking.slot_start),
                point=point.organisation.name if point else booking.contact_point_code,
                address=point.organisation.address if point else "",
                status=text(f"booking.lookup.status.{booking.status.value}"))


class ActionBookingLookup(Action):
    def name(self) -> str:
        return "action_booking_lookup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        code = str(tracker.get_slot("booking_code") or "")
        last4 = str(tracker.get_slot("booking_last4") or "")
        cancel = tracker.get_slot("booking_lookup_intent") == "cancel"
        channel, external_id = sender(tracker)
        svc = service()
        if cancel:
            found = await svc.cancel(code, last4, channel=channel, external_id=external_id)
        else:
            found = await svc.check(code, last4, channel=channel, external_id=external_id)
        if found.status is LookupStatus.LOCKED:
            dispatcher.utter_message(text=text("booking.lookup.locked"),
                                     buttons=text_buttons("booking.handoff_buttons"))
        elif found.status is LookupStatus.NOT_FOUND:
            log.info("booking look-up failed for %s", channel)
            dispatcher.utter_message(text=text("booking.lookup.not_found"))
        elif cancel and found.status is LookupStatus.CANCELLED:
            dispatcher.utter_message(text=text("booking.lookup.already_cancelled", code=code))
        elif cancel:
            dispatcher.utter_message(text=text("booking.lookup.cancelled", code=code))
        else:
            dispatcher.utter_message(text=await describe_lookup(found))
        return reset_events(LOOKUP_SLOTS)


class ValidateBookingMoveForm(ValidateBookingForm):
    """Moving a booking: its code and the phone's last 4 digits (checked at once, with the
    look-up's failed-try limit), then a new time at the same contact point, then a confirm."""

    def name(self) -> str:
        return "validate_booking_move_form"

    def validate_booking_code(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return ValidateBookingLookupForm().validate_booking_code(value, dispatcher, tracker,
                                                                 domain)

    async def validate_booking_last4(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        digits = ValidateBookingLookupForm().validate_booking_last4(
            value, dispatcher, tracker, domain)["booking_last4"]
        if digits is None:
            return {"booking_last4": None}
        code = str(tracker.get_slot("booking_code") or "")
        channel, external_id = sender(tracker)
        found = await service().check(code, digits, channel=channel, external_id=external_id)
        stop = {"booking_code": None, "booking_last4": None, "booking_when": None,
                "requested_slot": None}  # ends the form; the submit action then says nothing
        if found.status is LookupStatus.LOCKED:
            dispatcher.utter_message(text=text("booking.lookup.locked"),
                                     buttons=text_buttons("booking.handoff_buttons"))
            return stop
        if found.status is LookupStatus.NOT_FOUND:
            dispatcher.utter_message(text=text("booking.move.not_found"))
            return {"booking_code": None, "booking_last4": None}
        assert found.booking is not None
        if found.status is LookupStatus.CANCELLED:
            dispatcher.utter_message(text=text("booking.move.cancelled", code=code))
            return stop
        if found.booking.slot_start <= now():
            dispatcher.utter_message(text=text("booking.move.past", code=code))
            return stop
        dispatcher.utter_message(text=text("booking.move.found",
                                           booking=await describe_lookup(found)))
        point = found.booking.contact_point_code
        when = tracker.get_slot("booking_when")
        if when:  # said in the first message: "把预约改到下周三上午"
            tracker.slots["booking_point"] = point
            return {"booking_last4": digits, "booking_point": point,
                    **await offer(dispatcher, tracker, str(when), point)}
        return {"booking_last4": digits, "booking_point": point}

    async def validate_booking_when(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        point = tracker.get_slot("booking_point")
        if point and tracker.get_slot("booking_last4"):
            return {"booking_confirm": None,
                    **await offer(dispatcher, tracker, str(value), str(point))}
        wish = resolve(str(value), now())
        if isinstance(wish, Unresolved):
            return {"booking_when": None}  # asked again once the booking is found
        return {"booking_when": str(value)}


class ActionAskBookingMoveConfirm(Action):
    def name(self) -> str:
        return "action_ask_booking_move_form_booking_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        point = await find_point(service(), tracker.get_slot("booking_point"))
        start = datetime.fromisoformat(str(tracker.get_slot("booking_slot")))
        dispatcher.utter_message(
            text=text("booking.move.confirm", code=tracker.get_slot("booking_code"),
                      when=slot_time(start),
                      point=point.organisation.name if point else tracker.get_slot(
                          "booking_point")),
            buttons=text_buttons("booking.move.confirm_buttons"))
        return []


class ActionSubmitBookingMove(Action):
    def name(self) -> str:
        return "action_submit_booking_move"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        code = tracker.get_slot("booking_code")
        if not code:  # the form was ended by its validation, which has said why
            return reset_events(MOVE_SLOTS)
        if not tracker.get_slot("booking_confirm"):
            dispatcher.utter_message(text=text("booking.move.kept", code=code))
            return reset_events(MOVE_SLOTS)
        channel, external_id = sender(tracker)
        found, result = await service().move(
            str(code), str(tracker.get_slot("booking_last4") or ""),
            datetime.fromisoformat(str(tracker.get_slot("booking_slot"))),
            channel=channel, external_id=external_id)
        if result is None:  # cancelled or locked in the meantime
            dispatcher.utter_message(text=text("booking.move.failed", code=code))
            return reset_events(MOVE_SLOTS)
        if result.booking is None:
            dispatcher.utter_message(text=text("booking.taken"))
            return [SlotSet("booking_slot", None), SlotSet("booking_confirm", None),
                    FollowupAction("booking_move_form")]
        booking, point = result.booking, found.point
        dispatcher.utter_message(text=text(
            "booking.move.moved", code=booking.code, when=slot_time(booking.slot_start),
            point=point.organisation.name if point else booking.contact_point_code,
            address=point.organisation.address if point else ""))
        return reset_events(MOVE_SLOTS)

"""Legal aid: the pre-screen form, its cited result, and the pre-application.

Thin on purpose: the form asks what `domain.legal_aid.screen` says it still needs (only what the
outcome depends on), the result is the engine's, and the pre-application is a `casedb` row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import mask_phone, mobile_number, reset_events, sender
from actions.db import sessions
from actions.handoff import file_ticket, hand_off
from actions.texts import buttons as text_buttons
from actions.texts import text
from casedb.models import Organisation, OrganisationKind
from casedb.repositories import DirectoryRepository, LegalAidApplicationRepository
from domain.amounts import parse_household_size, parse_monthly_income
from domain.legal_aid import MatterType, Outcome, ScreeningInput, ScreeningResult, screen
from domain.legal_aid.deadlines import days_to_deadline
from domain.legal_aid.matters import guess_matter
from domain.legal_aid.rules import default_rule_book

log = logging.getLogger(__name__)
T = TypeVar("T")

SHANGHAI = ZoneInfo("Asia/Shanghai")
NONE = "none"  # the "以上都不是" button of list questions
# ScreeningInput field → the slot that asks it.
SLOT_FOR_NEED = {
    "matter_type": "matter_type",
    "criminal_factors": "criminal_factors",
    "identities": "identity",
    "has_proof_of_exempt_status": "has_proof",
    "household_size": "household_size",
    "household_monthly_income": "household_income",
    "district": "district",
}
FORM_SLOTS = ("matter_type", "criminal_factors", "identity", "has_proof", "household_size",
              "household_income")
SCREENING_SLOTS = ("matter_type", "criminal_factors", "identity", "has_proof", "household_size",
                   "household_income", "district")
APPLICATION_SLOTS = ("applicant_phone", "application_consent")


def today() -> date:
    return datetime.now(SHANGHAI).date()


def user_texts(tracker: Tracker) -> list[str]:
    """What the person wrote in this session (a deadline may be mentioned anywhere)."""
    texts: list[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            texts.clear()
        elif event.get("event") == "user" and event.get("text"):
            texts.append(str(event["text"]))
    return texts


def screening_input(slots: dict[str, Any], as_of: date,
                    days_to_deadline: int | None = None) -> ScreeningInput:
    """The engine's input from the form's slots (None = not asked yet)."""

    def codes(name: str) -> frozenset[str] | None:
        value = slots.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        return frozenset(str(v) for v in items if v != NONE)

    return ScreeningInput(
        as_of=as_of,
        matter_type=slots.get("matter_type"),
        identities=codes("identity"),  # type: ignore[arg-type]  # converted by the engine
        criminal_factors=codes("criminal_factors"),  # type: ignore[arg-type]
        has_proof_of_exempt_status=slots.get("has_proof"),
        household_size=_number(slots.get("household_size"), int),
        household_monthly_income=_number(slots.get("household_income"), Decimal),
        district=slots.get("district"),
        days_to_deadline=days_to_deadline,
    )


def _number(value: Any, kind: Callable[[str], T]) -> T | None:
    """A slot value as a number; a raw answer not validated yet counts as not answered."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return kind(str(int(value)) if kind is int and isinstance(value, float) else str(value))
    except (ValueError, ArithmeticError):
        return None


def screen_slots(slots: dict[str, Any], days_to_deadline: int | None = None) -> ScreeningResult:
    return screen(screening_input(slots, today(), days_to_deadline))


def matter_label(matter: str | None) -> str:
    if matter is None:
        return ""
    for rule in default_rule_book().matters:
        if rule.matter == matter:
            return rule.summary
    return str(matter)


def render_result(result: ScreeningResult) -> str:
    """The result as one message: headline, reasons, basis, documents, where, time, next."""
    t = "legal_aid."
    parts = [text(f"{t}headline.{result.outcome.value}")]

    def section(key: str, lines: list[str] | tuple[str, ...], numbered: bool = False) -> None:
        if lines:
            body = [f"{i}. {line}" if numbered else line for i, line in enumerate(lines, 1)]
            parts.append(text(f"{t}sections.{key}") + "\n" + "\n".join(body))

    section("reasons", result.reasons)
    section("citations", ["、".join(result.citations)] if result.citations else [])
    if result.outcome is not Outcome.MANDATORY_APPOINTMENT:
        section("documents", result.documents, numbered=True)
        section("where", [result.where_to_apply.text] if result.where_to_apply else [])
    section("time", [result.decision_time])
    section("urgent", [result.urgent_path] if result.urgent_path else [])
    section("next", [step.text for step in result.next_steps], numbered=True)
    parts.append(result.disclaimer)
    # One bubble: Rasa's output channels split a text at blank lines.
    return "\n".join(parts)


def offers_application(result: ScreeningResult) -> bool:
    return result.outcome in (Outcome.LIKELY_ELIGIBLE, Outcome.NEEDS_STAFF_REVIEW)


def forget_everything() -> list[dict[str, Any]]:
    """Clear the pre-screen, the pre-application and the offer."""
    return reset_events(SCREENING_SLOTS + APPLICATION_SLOTS
                        + ("offer_application", "legal_aid_outcome"))


class ValidateLegalAidForm(FormValidationAction):
    def name(self) -> str:
        return "validate_legal_aid_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        """Only what the outcome still depends on, in the engine's order."""
        try:
            result = screen_slots(tracker.slots)
        except ValueError as exc:  # contradictory answers: ask the matter again
            log.warning("screening input rejected: %s", exc)
            return ["matter_type"]
        # Answered slots stay in the list (rasa_sdk validates only listed slots); the form asks
        # the first unfilled one.
        needed = {SLOT_FOR_NEED[need] for need in result.blocking_needs if need in SLOT_FOR_NEED}
        return [slot for slot in domain_slots or FORM_SLOTS
                if slot in needed or tracker.slots.get(slot) is not None]

    async def extract_matter_type(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        """When the NLU found no matter in the message, try the keyword patterns."""
        if tracker.get_slot("matter_type") is not None:
            return {}
        guessed = guess_matter(tracker.latest_message.get("text") or "")
        return {"matter_type": guessed.value} if guessed is not None else {}

    def validate_matter_type(self, value: Any, dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in {m.value for m in MatterType}:
            return {"matter_type": value}
        dispatcher.utter_message(text=text("legal_aid.invalid.matter_type"))
        return {"matter_type": None}

    def validate_household_size(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        # The entity may be a fragment ("口人" of "3口人"): fall back to the whole answer.
        size = (parse_household_size(str(value))
                or parse_household_size(tracker.latest_message.get("text") or ""))
        if size is None or not 1 <= size <= 30:
            dispatcher.utter_message(text=text("legal_aid.invalid.household_size"))
            return {"household_size": None}
        return {"household_size": size}

    def validate_household_income(self, value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        income = parse_monthly_income(str(value))
        if income is None:
            income = parse_monthly_income(tracker.latest_message.get("text") or "")
        if income is None:
            dispatcher.utter_message(text=text("legal_aid.invalid.household_income"))
            return {"household_income": None}
        return {"household_income": float(income)}


class ActionLegalAidResult(Action):
    def name(self) -> str:
        return "action_legal_aid_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        result = screen_slots(tracker.slots, days_to_deadline(user_texts(tracker)))
        offer = offers_application(result)
        buttons: list[dict[str, str]]
        if result.outcome is Outcome.MANDATORY_APPOINTMENT:
            buttons = []  # the law says a person decides: staff take over below
        elif offer:
            buttons = []  # the offer below carries its own buttons
        else:
            buttons = text_buttons("legal_aid.other_buttons")
        dispatcher.utter_message(text=render_result(result), buttons=buttons)
        if offer:
            dispatcher.utter_message(text=text("legal_aid.offer"),
                                     buttons=text_buttons("legal_aid.offer_buttons"))
        if result.outcome is Outcome.MANDATORY_APPOINTMENT:
            await hand_off(dispatcher, tracker, reason=result.outcome.value, eligibility={
                "outcome": result.outcome.value,
                "inputs": {name: tracker.get_slot(name) for name in SCREENING_SLOTS
                           if tracker.get_slot(name) is not None}})
        events: list[dict[str, Any]] = [SlotSet("offer_application", offer),
                                        SlotSet("legal_aid_outcome", result.outcome.value)]
        if not offer:
            events += reset_events(SCREENING_SLOTS)
        return events


class ValidateLegalAidApplicationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_legal_aid_application_form"

    def validate_applicant_phone(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        phone = mobile_number(str(value))
        if phone is None:
            dispatcher.utter_message(text=text("legal_aid.invalid.applicant_phone"))
        return {"applicant_phone": phone}


def application_summary(slots: dict[str, Any]) -> str:
    s = "legal_aid.summary."
    lines = [text(f"{s}matter", value=matter_label(slots.get("matter_type")))]
    if slots.get("household_size") is not None and slots.get("household_income") is not None:
        lines.append(text(f"{s}household", size=int(slots["household_size"]),
                          income=f"{float(slots['household_income']):.0f}"))
    if slots.get("district"):
        lines.append(text(f"{s}district", value=slots["district"]))
    phone = str(slots.get("applicant_phone") or "")
    lines.append(text(f"{s}phone", value=mask_phone(phone)))
    outcome = slots.get("legal_aid_outcome")
    if outcome:
        lines.append(text(f"{s}outcome", value=text(f"legal_aid.outcome_names.{outcome}")))
    return "\n".join(lines)


class ActionAskApplicationConsent(Action):
    def name(self) -> str:
        return "action_ask_application_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=text("legal_aid.consent",
                                           summary=application_summary(tracker.slots)),
                                 buttons=text_buttons("legal_aid.consent_buttons"))
        return []


class ActionSubmitLegalAidApplication(Action):
    def name(self) -> str:
        return "action_submit_legal_aid_application"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        reset = forget_everything()
        if not tracker.get_slot("application_consent"):
            dispatcher.utter_message(text=text("legal_aid.not_submitted"))
            return reset
        slots = tracker.slots
        result = screen_slots(slots)
        channel, external_id = sender(tracker)
        phone = str(slots["applicant_phone"])
        try:
            async with sessions().begin() as session:
                application = await LegalAidApplicationRepository(session).create(
                    channel=channel, external_id=external_id, phone=phone,
                    district=slots.get("district"),
                    inputs={name: slots.get(name) for name in SCREENING_SLOTS},
                    outcome=result.outcome.value, rules_used=list(result.rules_used))
        except SQLAlchemyError:
            log.exception("could not store a legal aid pre-application")
            dispatcher.utter_message(text=text("legal_aid.failed"))
            return []
        message = text("legal_aid.submitted", reference=application.reference, last4=phone[-4:])
        centre = await legal_aid_centre(slots.get("district"))
        if centre is not None:
            message += "\n" + text("legal_aid.centre", name=centre.name, address=centre.address,
                                   phone=f"(电话{centre.phone})" if centre.phone else "")
        if result.outcome is Outcome.NEEDS_STAFF_REVIEW:
            # The law or the data leave it open: the legal aid team gets a ticket to follow
            # up (the staff console's queue), not a live chat.
            try:
                await file_ticket(tracker, team="legal_aid", kind="staff_review", form={
                    "reference": application.reference, "district": slots.get("district"),
                    "outcome": result.outcome.value, "needs": list(result.needs)})
                message += "\n" + text("legal_aid.review_ticket")
            except Exception:  # the pre-application is stored; staff also see it there
                log.exception("could not open the review ticket for %s", application.reference)
        dispatcher.utter_message(text=message)
        return reset


async def legal_aid_centre(district: str | None) -> Organisation | None:
    """The legal aid centre of a district from the directory (Art. 38), if it lists one."""
    if not district:
        return None
    try:
        async with sessions()() as session:
            centres = await DirectoryRepository(session).by_kind(
                OrganisationKind.LEGAL_AID_CENTRE)
    except SQLAlchemyError:
        log.exception("directory not readable")
        return None
    return next((c for c in centres if c.district == district), None)


class ActionLegalAidReset(Action):
    """Forget the pre-screen answers (the person left the form or declined the offer)."""

    def name(self) -> str:
        return "action_legal_aid_reset"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        return forget_everything()


class ActionHandleStatement(Action):
    """A statement outside any form ("公司拖欠我三个月工资", "我是农民工,老板不给工钱").

    The NLU reads such a sentence as `inform` (it is how people answer a form question too);
    outside a form it is someone describing their situation. A legal matter starts the legal aid
    pre-screen; a consultation topic starts a booking; a notary matter gets that answer.
    """

    def name(self) -> str:
        return "action_handle_statement"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        entities = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
        text_in = tracker.latest_message.get("text") or ""
        if "matter_type" in entities or guess_matter(text_in) is not None:
            return [FollowupAction("legal_aid_form")]
        if "topic" in entities:
            return [FollowupAction("booking_form")]
        if "notary_service" in entities:
            return [FollowupAction("notary_form")]
        dispatcher.utter_message(response="utter_default")
        return []

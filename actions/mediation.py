"""People's mediation (人民调解) requests: the kind of dispute, the other party, the district and
a contact number, then a ticket for the mediation team and what happens next."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import mask_phone, mobile_number, reset_events
from actions.handoff import file_ticket, handoff_data, handoff_text
from domain.legal_aid.codes import CITY_WIDE, DISTRICTS

log = logging.getLogger(__name__)

SLOTS = ("mediation_kind", "mediation_party", "mediation_district", "mediation_phone")


def dispute_kind(text: str) -> str:
    """wage, land, neighbour, family or other, by the keywords in actions/data/handoff.yaml."""
    for kind, words in handoff_data()["mediation"]["kind_keywords"].items():
        if any(word in text for word in words):
            return str(kind)
    return "other"


def district_in(text: str) -> str | None:
    for district in DISTRICTS:
        if district == CITY_WIDE:
            continue
        if district in text or district[:-1] in text:  # "武进" as well as "武进区"
            return district
    return None


class ValidateMediationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_mediation_form"

    def validate_mediation_kind(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return {"mediation_kind": dispute_kind(str(value or ""))}

    def validate_mediation_district(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        district = district_in(str(value or ""))
        if district is None:
            dispatcher.utter_message(text=handoff_text("mediation.invalid.mediation_district"))
        return {"mediation_district": district}

    def validate_mediation_phone(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        phone = mobile_number(str(value or ""))
        if phone is None:
            dispatcher.utter_message(text=handoff_text("mediation.invalid.mediation_phone"))
        return {"mediation_phone": phone}


class ActionSubmitMediation(Action):
    def name(self) -> str:
        return "action_submit_mediation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        form = {name: str(tracker.get_slot(name) or "").strip() for name in SLOTS}
        try:
            ticket = await file_ticket(tracker, team="mediation", kind="mediation", form=form)
        except Exception:
            log.exception("could not file the mediation request of %s", tracker.sender_id)
            dispatcher.utter_message(text=handoff_text("mediation.failed"))
            return reset_events(SLOTS)
        kind = handoff_text(f"mediation.kinds.{form['mediation_kind'] or 'other'}")
        dispatcher.utter_message(text=handoff_text(
            "mediation.received", ticket=ticket, kind=kind, party=form["mediation_party"],
            district=form["mediation_district"], phone=mask_phone(form["mediation_phone"]),
            days=handoff_text("mediation.commitment_days")))
        return reset_events(SLOTS)

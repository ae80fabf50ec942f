"""Complaints about a lawyer, notary or legal worker: collect whom, which organisation, what
happened and when, then file a ticket for the complaints team and say what happens next."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import reset_events
from actions.handoff import file_ticket, handoff_text

log = logging.getLogger(__name__)

SLOTS = ("complaint_subject", "complaint_org", "complaint_what", "complaint_when")
MIN_ACCOUNT_CHARS = 6  # "态度很差" alone says too little to act on


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    def validate_complaint_what(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        account = str(value or "").strip()
        if len(account) < MIN_ACCOUNT_CHARS:
            dispatcher.utter_message(text=handoff_text("complaint.invalid.complaint_what"))
            return {"complaint_what": None}
        return {"complaint_what": account}


class ActionSubmitComplaint(Action):
    def name(self) -> str:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        form = {name: str(tracker.get_slot(name) or "").strip() for name in SLOTS}
        try:
            ticket = await file_ticket(tracker, team="complaints", kind="complaint", form=form)
        except Exception:
            log.exception("could not file the complaint of %s", tracker.sender_id)
            dispatcher.utter_message(text=handoff_text("complaint.failed"))
            return reset_events(SLOTS)
        dispatcher.utter_message(text=handoff_text(
            "complaint.received", ticket=ticket, subject=form["complaint_subject"],
            org=form["complaint_org"], what=form["complaint_what"],
            when=form["complaint_when"], days=handoff_text("complaint.commitment_days")))
        return reset_events(SLOTS)

"""Status of a legal aid pre-application: the `FY-` reference plus the phone's last 4 digits.

Failed tries count per conversation and per reference (`casedb.lookups`): after five within an
hour the look-up is refused and the person is offered a person instead.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import last_four, sender
from actions.db import sessions
from actions.texts import buttons as text_buttons
from actions.texts import text
from casedb.lookups import conversation_key, locked, phone_matches, reference_key
from casedb.models import LegalAidApplication, utcnow
from casedb.references import find_reference
from casedb.repositories import LegalAidApplicationRepository, VerificationFailureRepository

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")


class ValidateApplicationStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_application_status_form"

    def validate_status_reference(self, value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        reference = find_reference(str(value), "FY")
        if reference is None:
            dispatcher.utter_message(text=text("legal_aid.status.invalid_reference"))
        return {"status_reference": reference}

    def validate_status_last4(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        digits = last_four(str(value))
        if digits is None:
            dispatcher.utter_message(text=text("legal_aid.status.invalid_last4"))
        return {"status_last4": digits}


def describe(application: LegalAidApplication) -> str:
    submitted = application.created_at.astimezone(SHANGHAI)
    return text("legal_aid.status.found", reference=application.reference,
                submitted=f"{submitted.month}月{submitted.day}日",
                status=text(f"legal_aid.status.names.{application.status.value}"))


class ActionApplicationStatus(Action):
    def name(self) -> str:
        return "action_application_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        reference = str(tracker.get_slot("status_reference") or "")
        last4 = str(tracker.get_slot("status_last4") or "")
        channel, external_id = sender(tracker)
        keys = (conversation_key(channel, external_id), reference_key(reference))
        now = utcnow()
        async with sessions().begin() as session:
            failures = VerificationFailureRepository(session)
            if await locked(failures, keys, now):
                dispatcher.utter_message(text=text("legal_aid.status.locked"),
                                         buttons=text_buttons("legal_aid.handoff_buttons"))
                return forget()
            application = await LegalAidApplicationRepository(session).get(reference)
            if application is None or not phone_matches(application.phone, last4):
                await failures.record(*keys, at=now)
                log.info("legal aid status look-up failed for %s", channel)
                dispatcher.utter_message(text=text("legal_aid.status.not_found"))
                return forget()
            dispatcher.utter_message(text=describe(application))
        return forget()


def forget() -> list[dict[str, Any]]:
    return [SlotSet("status_reference", None), SlotSet("status_last4", None)]

"""Greeting: say what the assistant can do, with the directory's size from the case database."""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.db import sessions
from actions.texts import text
from casedb.models import OrganisationKind
from casedb.repositories import DirectoryRepository

log = logging.getLogger(__name__)

DEFAULT_BUREAU = "常州市司法局"


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            async with sessions()() as session:
                counts = await DirectoryRepository(session).counts_by_kind()
        except (SQLAlchemyError, OSError) as exc:
            log.error("greeting without directory counts: %s", exc)
            dispatcher.utter_message(text=text("greet_plain"))
            return []
        dispatcher.utter_message(text=text(
            "greet",
            bureau=os.environ.get("BUREAU_NAME") or DEFAULT_BUREAU,
            legal_aid_centres=counts[OrganisationKind.LEGAL_AID_CENTRE],
            notary_offices=counts[OrganisationKind.NOTARY_OFFICE],
            contact_points=counts[OrganisationKind.CONTACT_POINT],
        ))
        return []

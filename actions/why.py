""""为什么要问这个": explain the question a form just asked, then the form asks it again."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.texts import text


def explanation(requested_slot: str | None) -> str:
    """Why the assistant asks for `requested_slot` (a general note for a slot without one)."""
    try:
        return text(f"why.{requested_slot}")
    except KeyError:
        return text("why.default")


class ActionExplainQuestion(Action):
    def name(self) -> str:
        return "action_explain_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=explanation(tracker.get_slot("requested_slot")))
        return []

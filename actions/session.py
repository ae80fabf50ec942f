"""Session start: the privacy notice opens every conversation (个人信息保护法 Art. 17)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.texts import text


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        # carry_over_slots_to_new_session: a custom session start must copy the slots itself.
        carry_over = (domain.get("session_config") or {}).get(
            "carry_over_slots_to_new_session", True)
        if carry_over:
            events.extend(SlotSet(name, value) for name, value in tracker.current_slot_values()
                          .items() if value is not None)
        dispatcher.utter_message(text=text("privacy_notice"))
        events.append(ActionExecuted("action_listen"))
        return events

"""Deleting a person's data on request (个人信息保护法 Art. 47).

The gateway owns the message log and Rasa's tracker, so the action asks it to erase: it sends a
custom payload `{"privacy": "erase"}` after the confirmation text. The gateway deletes the
conversation's rows from the case database and wipes the Rasa tracker before it answers.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset
from rasa_sdk.executor import CollectingDispatcher

from actions.texts import text

ERASE_PAYLOAD = {"privacy": "erase"}


class ActionDeleteMyData(Action):
    def name(self) -> str:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=text("data_deleted"))
        dispatcher.utter_message(json_message=ERASE_PAYLOAD)
        return [AllSlotsReset()]

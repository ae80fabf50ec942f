"""Low NLU confidence: ask back with the two best guesses; a second failure hands off."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off
from actions.notary import followup_answer
from actions.texts import text

LABELS = Path(__file__).parent / "data" / "labels.yaml"
# Intents never offered as a guess: answers inside a form, and the fallback itself.
NOT_OFFERED = {"nlu_fallback", "inform", "affirm", "deny", "out_of_scope", "greet", "goodbye",
               "thank"}
GUESSES = 2


@cache
def labels() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    return data


def best_guesses(parse_data: dict[str, Any], limit: int = GUESSES) -> list[dict[str, str]]:
    """Buttons for the most likely intents of a message, FAQ keys resolved to their topic."""
    buttons: list[dict[str, str]] = []
    for ranked in parse_data.get("intent_ranking") or []:
        intent = ranked.get("name")
        if not intent or intent in NOT_OFFERED:
            continue
        if intent == "faq":
            key = _faq_key(parse_data)
            if key is None or key not in labels()["faq"]:
                continue
            buttons.append({"title": labels()["faq"][key],
                            "payload": "/inform" + json.dumps({"faq_key": key})})
        elif intent in labels()["intents"]:
            buttons.append({"title": labels()["intents"][intent], "payload": f"/{intent}"})
        if len(buttons) == limit:
            break
    return buttons


def _faq_key(parse_data: dict[str, Any]) -> str | None:
    selector = (parse_data.get("response_selector") or {})
    selected = selector.get("faq") or selector.get("default") or {}
    name = (selected.get("response") or {}).get("intent_response_key")  # "faq/legal_aid_where"
    if not isinstance(name, str) or "/" not in name:
        return None
    return name.split("/", 1)[1]


def previous_user_intent(tracker: Tracker) -> str | None:
    """The intent of the user message before the latest one."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    intent = (users[-2].get("parse_data") or {}).get("intent") or {}
    name = intent.get("name")
    return name if isinstance(name, str) else None


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if previous_user_intent(tracker) == "nlu_fallback":
            # A second failure in a row: a person takes over (the gateway queues the chat).
            dispatcher.utter_message(text=text("clarify_failed"))
            await hand_off(dispatcher, tracker, reason="not_understood")
            return []
        buttons = best_guesses(tracker.latest_message)
        if not buttons:
            dispatcher.utter_message(response="utter_rephrase")
            return []
        buttons.append({"title": labels()["other"]["none_of_these"], "payload": "/deny"})
        dispatcher.utter_message(text=text("ask_clarify"), buttons=buttons)
        return []


class ActionAnswerFaq(Action):
    """Answer an FAQ chosen by button (a payload skips the response selector)."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        key = tracker.get_slot("faq_key")
        response = f"utter_faq/{key}"
        # Right after notary offices were shown, their matter's documents, fees, ... instead.
        answer = await followup_answer(tracker, key) if tracker.get_slot("notary_shown") else None
        if answer is not None:
            dispatcher.utter_message(text=answer)
        elif key and response in (domain.get("responses") or {}):
            dispatcher.utter_message(response=response)
        else:
            dispatcher.utter_message(response="utter_rephrase")
        return [SlotSet("faq_key", None)]

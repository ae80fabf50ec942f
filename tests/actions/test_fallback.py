from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import db as actions_db
from actions.fallback import ActionAnswerFaq, ActionClarify, best_guesses
from casedb.models import HandoffTicket
from tests.actions.conftest import make_tracker
from tests.conftest import Database

RANKING = {"intent_ranking": [
    {"name": "nlu_fallback", "confidence": 0.4},
    {"name": "faq", "confidence": 0.35},
    {"name": "greet", "confidence": 0.1},
    {"name": "legal_aid_eligibility", "confidence": 0.3},
    {"name": "find_notary", "confidence": 0.2},
], "response_selector": {"faq": {"response": {
    "intent_response_key": "faq/legal_aid_where", "confidence": 0.8}}}}


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


def test_best_guesses_skip_small_talk_and_name_the_faq_topic() -> None:
    assert best_guesses(RANKING) == [
        {"title": "到哪里申请法律援助", "payload": '/inform{"faq_key": "legal_aid_where"}'},
        {"title": "申请法律援助", "payload": "/legal_aid_eligibility"},
    ]


def test_best_guesses_without_a_ranking_is_empty() -> None:
    assert best_guesses({}) == []


async def test_first_failure_asks_back_with_buttons() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("援助咋弄", "nlu_fallback", parse_data=RANKING,
                           events=[user("nlu_fallback")])
    await ActionClarify().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["text"].startswith("抱歉,我不太确定您的意思")
    assert [b["payload"] for b in message["buttons"]] == [
        '/inform{"faq_key": "legal_aid_where"}', "/legal_aid_eligibility", "/deny"]


async def test_second_failure_in_a_row_hands_off(action_db: Database) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("嗯嗯那个", "nlu_fallback", parse_data=RANKING,
                           events=[user("nlu_fallback"), user("nlu_fallback")])
    await ActionClarify().run(dispatcher, tracker, {})
    await actions_db.sessions().kw["bind"].dispose()
    said, payload = dispatcher.messages
    assert "转接人工" in said["text"] and "12348" in said["text"]
    handoff = payload["custom"]["handoff"]
    assert (handoff["team"], handoff["reason"]) == ("legal_aid", "not_understood")
    async with action_db.sessions() as session:
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert handoff["ticket"] == ticket.id and ticket.reason == "not_understood"


async def test_chosen_faq_is_answered_and_forgotten() -> None:
    dispatcher = CollectingDispatcher()
    domain = {"responses": {"utter_faq/legal_aid_where": [{"text": "..."}]}}
    events = await ActionAnswerFaq().run(
        dispatcher, make_tracker("/inform", "inform", slots={"faq_key": "legal_aid_where"}),
        domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/legal_aid_where"]
    assert events == [{"event": "slot", "timestamp": None, "name": "faq_key", "value": None}]


async def test_unknown_faq_key_asks_to_rephrase() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(
        dispatcher, make_tracker("/inform", "inform", slots={"faq_key": "nope"}), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_rephrase"]

"""action_handoff: the ticket with its case card, the team by topic, the gateway payload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import db as actions_db
from actions.complaint import ActionSubmitComplaint, ValidateComplaintForm
from actions.handoff import ActionHandoff, reason_for, team_for
from actions.legal_aid import ActionLegalAidResult
from actions.mediation import (
    ActionSubmitMediation,
    ValidateMediationForm,
    dispute_kind,
    district_in,
)
from casedb.models import HandoffTicket, TicketStatus
from tests.actions.conftest import make_tracker
from tests.conftest import Database


@pytest.fixture
async def handoff_db(action_db: Database) -> AsyncIterator[Database]:
    """The action server's database, its engine disposed after the test."""
    yield action_db
    await actions_db.sessions().kw["bind"].dispose()


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


async def test_the_ticket_carries_the_case_card_and_the_payload_names_it(
        handoff_db: Database) -> None:
    tracker = make_tracker("转人工", "request_human", slots={
        "matter_type": "labour_remuneration", "district": "武进区", "household_size": 3,
        "legal_aid_outcome": "likely_eligible", "requested_slot": None},
        events=[user("legal_aid_eligibility"), user("inform"), user("request_human")])
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    spec = message["custom"]["handoff"]
    assert (spec["team"], spec["reason"]) == ("legal_aid", "request_human")
    async with handoff_db.sessions() as session:
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert spec["ticket"] == ticket.id
    assert (ticket.channel, ticket.external_id, ticket.status) == (
        "web", "test", TicketStatus.QUEUED)
    card = ticket.case_card
    assert card["channel"] == "web"
    assert card["intents"] == ["legal_aid_eligibility", "inform", "request_human"]
    assert card["slots"]["district"] == "武进区"
    assert card["eligibility"] == {"outcome": "likely_eligible", "inputs": {
        "matter_type": "labour_remuneration", "household_size": 3, "district": "武进区"}}
    assert {"event": "active_loop", "name": None, "timestamp": None} in events

    # Asking again while the ticket is open does not open a second one.
    await ActionHandoff().run(CollectingDispatcher(), tracker, {})
    async with handoff_db.sessions() as session:
        assert len((await session.execute(select(HandoffTicket))).scalars().all()) == 1


def test_teams_by_topic_and_reasons() -> None:
    complaint = make_tracker("我要投诉律师", "complain")
    assert (reason_for(complaint), team_for(complaint, "complain")) == (
        "complain", "complaints")
    mediation = make_tracker("邻居纠纷", "request_mediation")
    assert team_for(mediation, reason_for(mediation)) == "mediation"
    notary = make_tracker("转人工", "request_human",
                          events=[user("find_notary"), user("request_human")])
    assert team_for(notary, reason_for(notary)) == "notary"
    enterprise = make_tracker("转人工", "request_human", slots={"booking_topic": "ip"})
    assert team_for(enterprise, reason_for(enterprise)) == "enterprise"
    review = make_tracker("转人工", "request_human",
                          slots={"legal_aid_outcome": "mandatory_appointment"})
    assert (reason_for(review), team_for(review, reason_for(review))) == (
        "mandatory_appointment", "legal_aid")
    lost = make_tracker("转人工", "request_human",
                        events=[user("nlu_fallback"), user("nlu_fallback")])
    assert reason_for(lost) == "not_understood"


async def test_a_complaint_is_filed_for_the_complaints_team(handoff_db: Database) -> None:
    slots = {"complaint_subject": "张律师", "complaint_org": "某某律师事务所",
             "complaint_what": "收了代理费三个月不办事,也不回电话", "complaint_when": "今年九月"}
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitComplaint().run(dispatcher, make_tracker(
        "今年九月", "inform", slots=slots), {})
    async with handoff_db.sessions() as session:
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert (ticket.team, ticket.kind, ticket.status) == (
        "complaints", "complaint", TicketStatus.CALLBACK)
    assert ticket.case_card["form"] == slots
    [message] = dispatcher.messages
    assert f"TS-{ticket.id}" in message["text"] and "5个工作日内" in message["text"]
    assert "张律师(某某律师事务所)" in message["text"]
    assert {e["name"] for e in events} == set(slots)


def test_a_complaint_needs_an_account_of_what_happened() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateComplaintForm().validate_complaint_what(
        "太差", dispatcher, make_tracker(), {})
    assert result == {"complaint_what": None} and dispatcher.messages
    assert ValidateComplaintForm().validate_complaint_what(
        "  收了钱不办事还骂人  ", CollectingDispatcher(), make_tracker(), {}) == {
        "complaint_what": "收了钱不办事还骂人"}


async def test_a_mediation_request_is_filed_with_a_masked_phone(handoff_db: Database) -> None:
    slots = {"mediation_kind": "neighbour", "mediation_party": "楼上王某",
             "mediation_district": "武进区", "mediation_phone": "13912345678"}
    dispatcher = CollectingDispatcher()
    await ActionSubmitMediation().run(dispatcher, make_tracker(slots=slots), {})
    async with handoff_db.sessions() as session:
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert (ticket.team, ticket.kind) == ("mediation", "mediation")
    assert ticket.case_card["form"]["mediation_phone"] == "13912345678"  # staff call back
    [message] = dispatcher.messages
    assert "139****5678" in message["text"] and "13912345678" not in message["text"]
    assert "邻里纠纷" in message["text"] and "3个工作日内" in message["text"]
    assert f"TJ-{ticket.id}" in message["text"]


def test_mediation_answers_are_validated() -> None:
    form, tracker = ValidateMediationForm(), make_tracker()
    assert dispute_kind("老板拖欠我三个月工资") == "wage"
    assert dispute_kind("拆迁补偿谈不拢") == "land"
    assert dispute_kind("和朋友借钱不还") == "other"
    assert form.validate_mediation_kind("楼上天天噪音", CollectingDispatcher(), tracker, {}) \
        == {"mediation_kind": "neighbour"}
    assert district_in("在武进那边") == "武进区" and district_in("南京") is None
    dispatcher = CollectingDispatcher()
    assert form.validate_mediation_district("南京", dispatcher, tracker, {}) == {
        "mediation_district": None} and dispatcher.messages
    assert form.validate_mediation_phone("电话139 1234 5678", CollectingDispatcher(),
                                         tracker, {}) == {"mediation_phone": "13912345678"}
    assert form.validate_mediation_phone("123", CollectingDispatcher(), tracker, {}) == {
        "mediation_phone": None}


async def test_a_mandatory_appointment_hands_over_at_once(handoff_db: Database) -> None:
    slots = {"matter_type": "criminal_defence", "criminal_factors": ["minor"]}
    dispatcher = CollectingDispatcher()
    await ActionLegalAidResult().run(dispatcher, make_tracker(
        "我儿子被抓了,他才16岁", "legal_aid_eligibility", slots=slots), {})
    result, handoff = dispatcher.messages
    assert "应当通知法律援助机构指派律师" in result["text"] and not result["buttons"]
    spec = handoff["custom"]["handoff"]
    assert (spec["team"], spec["reason"]) == ("legal_aid", "mandatory_appointment")
    async with handoff_db.sessions() as session:
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert ticket.id == spec["ticket"] and ticket.reason == "mandatory_appointment"
    assert ticket.case_card["eligibility"] == {"outcome": "mandatory_appointment", "inputs": {
        "matter_type": "criminal_defence", "criminal_factors": ["minor"]}}

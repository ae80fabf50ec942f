from __future__ import annotations

import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import db as actions_db
from actions.legal_aid import (
    ActionLegalAidResult,
    ActionSubmitLegalAidApplication,
    ValidateLegalAidApplicationForm,
    ValidateLegalAidForm,
)
from casedb.directory import SAMPLE_DIRECTORY, parse_directory
from casedb.models import LegalAidApplication
from casedb.repositories import DirectoryRepository, PersonalDataRepository
from tests.actions.conftest import make_tracker
from tests.conftest import Database

GRADUATE_OWED_WAGES = {"matter_type": "labour_remuneration", "identity": ["graduate"]}


FORM_SLOTS = ["matter_type", "criminal_factors", "identity", "has_proof", "household_size",
              "household_income"]


async def required(slots: dict[str, Any]) -> list[str]:
    """The slots the form still asks, in order (answered ones stay listed for validation)."""
    listed = await ValidateLegalAidForm().required_slots(
        FORM_SLOTS, CollectingDispatcher(), make_tracker(slots=slots), {})
    assert [s for s in listed if slots.get(s) is not None] == [
        s for s in FORM_SLOTS if slots.get(s) is not None]
    return [s for s in listed if slots.get(s) is None]


async def test_the_form_asks_only_what_the_outcome_needs_in_order() -> None:
    assert await required({}) == ["matter_type"]
    assert await required({"matter_type": "labour_remuneration"}) == ["identity"]
    assert await required(GRADUATE_OWED_WAGES) == ["household_size", "household_income"]
    assert await required({**GRADUATE_OWED_WAGES, "household_size": 3,
                           "household_income": 4000}) == []


async def test_no_income_questions_where_there_is_no_hardship_test() -> None:
    # Art. 32(四): a victim of domestic violence is not means-tested.
    assert await required({"matter_type": "domestic_violence", "identity": ["none"]}) == []


async def test_a_criminal_defence_asks_the_article_25_circumstances() -> None:
    assert await required({"matter_type": "criminal_defence"}) == ["criminal_factors"]


def test_amounts_and_sizes_are_parsed_or_asked_again() -> None:
    form, dispatcher = ValidateLegalAidForm(), CollectingDispatcher()
    tracker = make_tracker()
    assert form.validate_household_income("一年五万", dispatcher, tracker, {}) == {
        "household_income": pytest.approx(4166.67)}
    assert form.validate_household_size("一家三口", dispatcher, tracker, {}) == {
        "household_size": 3}
    assert dispatcher.messages == []
    assert form.validate_household_income("不好说", dispatcher, tracker, {}) == {
        "household_income": None}
    assert form.validate_matter_type("卖菜", dispatcher, tracker, {}) == {"matter_type": None}
    assert len(dispatcher.messages) == 2


def test_phone_numbers_are_normalised_or_refused() -> None:
    form, dispatcher = ValidateLegalAidApplicationForm(), CollectingDispatcher()
    tracker = make_tracker()
    assert form.validate_applicant_phone("139 1234 5678", dispatcher, tracker, {}) == {
        "applicant_phone": "13912345678"}
    assert form.validate_applicant_phone("12345", dispatcher, tracker, {}) == {
        "applicant_phone": None}


async def test_an_eligible_result_cites_article_31_and_offers_a_pre_application() -> None:
    dispatcher = CollectingDispatcher()
    slots = {**GRADUATE_OWED_WAGES, "household_size": 3, "household_income": 4000.0}
    events = await ActionLegalAidResult().run(dispatcher, make_tracker(slots=slots), {})
    result, offer = dispatcher.messages
    assert result["text"].startswith("初步判断:您的情况很可能符合法律援助条件")
    assert "第三十一条" in result["text"] and "第四十三条" in result["text"]
    assert "最终以法律援助机构审查决定为准" in result["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    assert {"event": "slot", "timestamp": None, "name": "offer_application",
            "value": True} in events


async def test_a_not_eligible_result_still_offers_next_steps_and_forgets_answers() -> None:
    dispatcher = CollectingDispatcher()
    slots = {**GRADUATE_OWED_WAGES, "household_size": 1, "household_income": 20000.0}
    events = await ActionLegalAidResult().run(dispatcher, make_tracker(slots=slots), {})
    [result] = dispatcher.messages
    assert result["text"].startswith("初步判断:您的情况可能不符合")
    assert "12348" in result["text"]
    assert "/request_human" in [b["payload"] for b in result["buttons"]]
    assert {"event": "slot", "timestamp": None, "name": "matter_type", "value": None} in events


async def test_filing_stores_the_application_with_an_fy_reference(action_db: Database) -> None:
    organisations, _ = parse_directory(SAMPLE_DIRECTORY)
    async with action_db.sessions.begin() as session:
        await DirectoryRepository(session).replace_all(organisations)
    dispatcher = CollectingDispatcher()
    slots = {**GRADUATE_OWED_WAGES, "household_size": 3, "household_income": 4000.0,
             "district": "武进区", "applicant_phone": "13912345678",
             "application_consent": True, "legal_aid_outcome": "likely_eligible"}
    tracker = make_tracker(slots=slots)
    tracker.sender_id = "web:abc123"
    events = await ActionSubmitLegalAidApplication().run(dispatcher, tracker, {})
    await actions_db.sessions().kw["bind"].dispose()

    [message] = dispatcher.messages
    reference = re.search(r"FY-[23456789A-HJ-NP-Z]{8}", message["text"])
    assert reference is not None and "5678" in message["text"]
    assert "武进区法律援助中心(示例)" in message["text"]  # Art. 38: the district's centre
    async with action_db.sessions() as session:
        [row] = (await session.execute(select(LegalAidApplication))).scalars().all()
    assert row.reference == reference.group(0)
    assert (row.channel, row.external_id, row.phone) == ("web", "abc123", "13912345678")
    assert row.outcome == "likely_eligible" and row.district == "武进区"
    assert row.inputs["matter_type"] == "labour_remuneration"
    assert any(r.startswith("minimum-wage") or "@" in r for r in row.rules_used)
    assert {"event": "slot", "timestamp": None, "name": "applicant_phone",
            "value": None} in events

    async with action_db.sessions.begin() as session:
        assert await PersonalDataRepository(session).erase_conversation("web", "abc123") == 1
    async with action_db.sessions() as session:
        assert (await session.execute(select(LegalAidApplication))).first() is None


async def test_a_case_for_staff_review_also_opens_a_ticket(action_db: Database) -> None:
    from actions.legal_aid import screen_slots
    from casedb.models import HandoffTicket, TicketStatus

    slots = {"matter_type": "labour_remuneration", "identity": [], "household_size": 3,
             "district": "武进区", "applicant_phone": "13912345678", "application_consent": True}
    assert screen_slots(slots).outcome.value == "needs_staff_review"  # no income given
    dispatcher = CollectingDispatcher()
    await ActionSubmitLegalAidApplication().run(dispatcher, make_tracker(slots=slots), {})
    await actions_db.sessions().kw["bind"].dispose()
    assert "工作人员进一步审查" in dispatcher.messages[0]["text"]
    async with action_db.sessions() as session:
        application = (await session.execute(select(LegalAidApplication))).scalar_one()
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert (ticket.team, ticket.kind, ticket.status) == (
        "legal_aid", "staff_review", TicketStatus.CALLBACK)
    assert ticket.case_card["form"]["reference"] == application.reference
    assert "household_monthly_income" in ticket.case_card["form"]["needs"]


async def test_without_consent_nothing_is_stored(action_db: Database) -> None:
    dispatcher = CollectingDispatcher()
    slots = {**GRADUATE_OWED_WAGES, "applicant_phone": "13912345678",
             "application_consent": False}
    await ActionSubmitLegalAidApplication().run(dispatcher, make_tracker(slots=slots), {})
    assert "没有提交" in dispatcher.messages[0]["text"]
    async with action_db.sessions() as session:
        assert (await session.execute(select(LegalAidApplication))).first() is None


async def test_a_described_matter_is_recognised_without_an_entity() -> None:
    tracker = make_tracker("我是应届毕业生,公司拖欠我三个月工资", "legal_aid_eligibility",
                           slots={"identity": ["graduate"]})
    assert await ValidateLegalAidForm().extract_matter_type(
        CollectingDispatcher(), tracker, {}) == {"matter_type": "labour_remuneration"}
    tracker = make_tracker("想申请", "legal_aid_eligibility",
                           slots={"matter_type": "work_injury"})
    assert await ValidateLegalAidForm().extract_matter_type(
        CollectingDispatcher(), tracker, {}) == {}


@pytest.mark.parametrize(("text", "entities", "expected"), [
    ("公司拖欠我三个月工资", [], [{"event": "followup", "timestamp": None,
                                 "name": "legal_aid_form"}]),
    ("工伤", [{"entity": "matter_type", "value": "work_injury"}],
     [{"event": "followup", "timestamp": None, "name": "legal_aid_form"}]),
    ("劳动用工方面", [{"entity": "topic", "value": "labour"}],
     [{"event": "followup", "timestamp": None, "name": "booking_form"}]),
    ("学历公证", [{"entity": "notary_service", "value": "foreign_related"}],
     [{"event": "followup", "timestamp": None, "name": "notary_form"}]),
    ("嗯那个事情吧", [], []),
])
async def test_a_statement_outside_a_form_is_routed(
        text: str, entities: list[dict[str, str]], expected: list[dict[str, Any]]) -> None:
    from actions.legal_aid import ActionHandleStatement

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "inform", parse_data={"entities": entities})
    assert await ActionHandleStatement().run(dispatcher, tracker, {}) == expected
    if not expected:
        assert dispatcher.messages[0]["response"] == "utter_default"


def test_a_fragment_entity_falls_back_to_the_whole_answer() -> None:
    form, dispatcher = ValidateLegalAidForm(), CollectingDispatcher()
    assert form.validate_household_size("口人", dispatcher, make_tracker("3口人", "inform"),
                                        {}) == {"household_size": 3}
    assert form.validate_household_income("千", dispatcher, make_tracker("四千", "inform"),
                                          {}) == {"household_income": 4000.0}
    assert dispatcher.messages == []


async def test_an_unvalidated_raw_answer_is_still_validated() -> None:
    # "3口人" gave the entity "口人": the form must validate it, not treat it as answered.
    slots = {**GRADUATE_OWED_WAGES, "household_size": "口人"}
    listed = await ValidateLegalAidForm().required_slots(
        FORM_SLOTS, CollectingDispatcher(), make_tracker(slots=slots), {})
    assert "household_size" in listed


async def test_the_result_is_one_bubble() -> None:
    dispatcher = CollectingDispatcher()
    slots = {**GRADUATE_OWED_WAGES, "household_size": 3, "household_income": 4000.0}
    await ActionLegalAidResult().run(dispatcher, make_tracker(slots=slots), {})
    assert "\n\n" not in dispatcher.messages[0]["text"]  # Rasa splits bubbles at blank lines


async def test_a_deadline_under_seven_days_shows_the_urgent_path() -> None:
    dispatcher = CollectingDispatcher()
    slots = {**GRADUATE_OWED_WAGES, "household_size": 3, "household_income": 4000.0}
    events = [{"event": "session_started"},
              {"event": "user", "text": "公司拖欠工资,还有3天就过仲裁时效了"},
              {"event": "user", "text": "3口人"}]
    await ActionLegalAidResult().run(
        dispatcher, make_tracker(slots=slots, events=events), {})
    assert "【紧急情况】" in dispatcher.messages[0]["text"]
    assert "第四十四条" in dispatcher.messages[0]["text"]

    calm = CollectingDispatcher()
    await ActionLegalAidResult().run(calm, make_tracker(slots=slots), {})
    assert "【紧急情况】" not in calm.messages[0]["text"]

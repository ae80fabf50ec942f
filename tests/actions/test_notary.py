"""The notary finder's actions: reading the matter and the places, showing offices from the
sample directory (SQLite and PostgreSQL), and answering follow-ups about them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import db as actions_db
from actions import notary
from actions.fallback import ActionAnswerFaq
from actions.notary import (
    ActionAskNotaryDistrict,
    ActionAskNotaryMatter,
    ActionNotaryFollowup,
    ActionShowNotaryOffices,
    ValidateNotaryForm,
    aspect_of,
)
from domain.booking import SHANGHAI
from tests.actions.conftest import make_tracker
from tests.casedb.test_bookings import load_sample
from tests.conftest import Database

WEDNESDAY_10 = datetime(2026, 9, 23, 10, 0, tzinfo=SHANGHAI)
DOMAIN: dict[str, Any] = {"responses": {"utter_faq/legal_aid_materials": [{"text": "x"}],
                                        "utter_faq/hotline_12348": [{"text": "x"}]}}


def entity(name: str, value: str, text: str = "", said: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"entity": name, "value": value}
    if text and said:
        found.update(start=said.index(text), end=said.index(text) + len(text))
    return found


def faq(key: str) -> dict[str, Any]:
    return {"response_selector": {"faq": {"response": {
        "intent_response_key": f"faq/{key}"}}}}


async def extracted(said: str, entities: list[dict[str, Any]], intent: str = "find_notary",
                    **slots: Any) -> dict[str, Any]:
    """What the form takes from one message: extraction, then validation."""
    form, dispatcher = ValidateNotaryForm(), CollectingDispatcher()
    tracker = make_tracker(said, intent, slots=dict(slots),
                           parse_data={"entities": entities})
    domain = {"forms": {"notary_form": {"required_slots": ["notary_matter",
                                                          "notary_district"]}}}
    events = await form.get_extraction_events(dispatcher, tracker, domain)
    tracker.add_slots(events)
    validated = await form.get_validation_events(dispatcher, tracker, domain)
    return {e["name"]: e["value"] for e in validated}


def texts_of(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(str(m.get("text")) for m in dispatcher.messages if m.get("text"))


async def test_study_abroad_in_the_residence_district() -> None:
    said = "我想办出国用的学历公证，住在天宁区"
    found = await extracted(said, [entity("notary_service", "foreign_related", "学历公证", said),
                                   entity("district", "天宁区", "天宁区", said)], "inform")
    assert found == {"notary_matter": "education_abroad", "notary_property": False,
                     "notary_district": "天宁区", "notary_basis": "residence"}


async def test_a_flat_in_another_district_goes_where_the_flat_is() -> None:
    said = "我住在钟楼区,爸爸在武进区的房子要办继承公证"
    found = await extracted(said, [entity("district", "钟楼区", "钟楼区", said),
                                   entity("district", "武进区", "武进区", said),
                                   entity("notary_service", "inheritance", "继承公证", said)])
    assert found["notary_matter"] == "inheritance"
    assert (found["notary_district"], found["notary_basis"]) == ("武进区", "property")


async def test_the_property_location_is_asked_when_it_is_missing() -> None:
    said = "我住在钟楼区,要办房产继承公证"
    found = await extracted(said, [entity("notary_service", "inheritance", "继承公证", said)])
    assert found == {"notary_matter": "inheritance", "notary_property": True}
    dispatcher = CollectingDispatcher()
    await ActionAskNotaryDistrict().run(dispatcher, make_tracker(slots={
        "notary_matter": "inheritance", "notary_property": True}), {})
    assert "房产在哪个区" in texts_of(dispatcher) and len(dispatcher.messages[0]["buttons"]) == 6
    # A district button answers that question.
    found = await extracted('/inform{"district": "金坛区"}', [entity("district", "金坛区")],
                            "inform", notary_matter="inheritance", notary_property=True,
                            requested_slot="notary_district")
    assert (found["notary_district"], found["notary_basis"]) == ("金坛区", "property")


async def test_a_will_about_a_flat_may_use_the_residence() -> None:
    said = "我住在钟楼区,想立遗嘱把武进区的房子留给女儿"
    found = await extracted(said, [entity("notary_service", "will", "立遗嘱", said)])
    assert found["notary_matter"] == "will"
    assert (found["notary_district"], found["notary_basis"]) == ("钟楼区",
                                                                 "property_exception")


async def test_web_evidence_and_a_bare_matter_button() -> None:
    said = "想做个网页证据保全,我在新北"
    found = await extracted(said, [entity("notary_service", "evidence_preservation",
                                          "网页证据保全", said)])
    assert (found["notary_matter"], found["notary_district"]) == ("evidence_preservation",
                                                                  "新北区")
    found = await extracted('/inform{"notary_matter": "escrow"}',
                            [entity("notary_matter", "escrow")], "inform")
    assert found == {"notary_matter": "escrow", "notary_property": False}
    # 涉外 alone: which document? The question offers the documents used abroad.
    assert await extracted("要办涉外公证", [entity("notary_service", "foreign_related")]) == {}
    dispatcher = CollectingDispatcher()
    await ActionAskNotaryMatter().run(dispatcher, make_tracker("要办涉外公证", "find_notary",
                                      parse_data={"entities": [
                                          entity("notary_service", "foreign_related")]}), {})
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0] == "学历、学位公证" and "无犯罪记录公证" in titles


async def test_an_answer_to_the_district_question_keeps_the_matter() -> None:
    found = await extracted("签合同的地方在天宁", [], "inform", notary_matter="will",
                            requested_slot="notary_district")
    assert found == {"notary_district": "天宁区", "notary_basis": "act",
                     "notary_property": False}


@pytest.fixture
async def sample(action_db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    monkeypatch.setattr(notary, "now", lambda: WEDNESDAY_10.astimezone(UTC))
    await load_sample(action_db)
    yield
    await actions_db.sessions().kw["bind"].dispose()


async def show(**slots: Any) -> tuple[CollectingDispatcher, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionShowNotaryOffices().run(dispatcher, make_tracker(slots=slots), {})
    return dispatcher, {e["name"]: e["value"] for e in events}


async def test_offices_are_shown_as_cards_and_remembered(sample: None) -> None:
    dispatcher, slots = await show(notary_matter="education_abroad", notary_district="天宁区",
                                   notary_basis="residence", notary_destination="英国")
    said = texts_of(dispatcher)
    assert said.startswith("按《公证法》第二十五条") and "住所地(天宁区)" in said
    assert "1. 常州市示例公证处\n地址:示例大道100号" in said
    assert ("办公时间:周一至周五 09:00–12:00、13:30–17:30；周六 09:00–12:00"
            "(现在在办公时间内)") in said
    assert "英国是《取消外国公文书认证要求的公约》缔约国,自2023年11月7日起" in said
    assert "示例数据" in said
    cards = next(m["custom"] for m in dispatcher.messages if m.get("custom"))
    assert [c["code"] for c in cards["notary_offices"]] == ["NO-CITY"]
    assert cards["notary_offices"][0]["open_now"] is True and cards["match"] is True
    assert slots["notary_shown"] is True and slots["notary_shown_offices"] == ["NO-CITY"]
    assert slots["notary_shown_matter"] == "education_abroad"
    assert slots["notary_matter"] is None and slots["notary_district"] is None


async def test_property_inheritance_in_wujin(sample: None) -> None:
    dispatcher, slots = await show(notary_matter="inheritance", notary_district="武进区",
                                   notary_basis="property")
    said = texts_of(dispatcher)
    assert "房产在武进区,所以为您找武进区可以办理继承公证的公证处" in said
    assert "武进区示例公证处" in said and "常州市示例公证处" not in said
    assert "Apostille" not in said
    assert slots["notary_shown_offices"] == ["NO-WJ"]


async def test_at_most_three_offices_ranked(sample: None) -> None:
    dispatcher, slots = await show(notary_matter="contract", notary_district="新北区",
                                   notary_basis="residence")
    assert slots["notary_shown_offices"] == ["NO-XB", "NO-CITY"]
    assert "为您找到2家可以办理合同公证的公证处" in texts_of(dispatcher)


async def test_no_match_offers_the_city_office_and_a_person(sample: None) -> None:
    dispatcher, slots = await show(notary_matter="will", notary_district="溧阳市",
                                   notary_basis="residence")
    first = dispatcher.messages[0]
    assert first["text"].startswith("溧阳市暂时没有登记可以办理遗嘱公证的公证处")
    assert "常州市示例公证处" in first["text"]
    assert first["buttons"] == [{"title": "转人工", "payload": "/request_human"}]
    assert slots["notary_shown_offices"] == ["NO-CITY"]


async def followup(text: str, key: str, **slots: Any) -> str:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "faq", slots={"notary_shown": True, **slots},
                           parse_data=faq(key))
    await ActionNotaryFollowup().run(dispatcher, tracker, DOMAIN)
    assert len(dispatcher.messages) == 1
    message = dispatcher.messages[0]
    return str(message.get("text") or message.get("response"))


SHOWN = {"notary_shown_matter": "education_abroad", "notary_shown_offices": ["NO-CITY"]}


async def test_followups_about_the_matter_and_office_just_shown(sample: None) -> None:
    documents = await followup("要带什么材料", "notary_materials", **SHOWN)
    assert documents.startswith("办理学历、学位公证一般需要带:\n1. 本人身份证、户口簿")
    assert "以常州市示例公证处的要求为准" in documents
    fee = await followup("多少钱", "notary_fees", **SHOWN)
    assert "按江苏省公证服务收费标准按件收取" in fee and "第三十四条" not in fee
    poor = await followup("多少钱", "notary_fees", identity=["low_income"], **SHOWN)
    assert "公证机构应当按照规定减免公证费(《公证法》第三十四条)" in poor
    time = await followup("多久能拿到", "notary_timeline", **SHOWN)
    assert time.startswith("学历、学位公证一般5个工作日左右出证。")
    assert "十五个工作日内出具公证书" in time and "附加证明书或领事认证" in time
    hours = await followup("周末开门吗", "working_hours", **SHOWN)
    assert "常州市示例公证处:周一至周五" in hours and "周末也开门(周六)" in hours
    agent = await followup("能代办吗", "notary_materials", **SHOWN)
    assert agent.startswith("学历、学位公证可以委托他人代为办理(《公证法》第二十六条)")


async def test_a_will_cannot_be_done_by_an_agent(sample: None) -> None:
    will = {"notary_shown_matter": "will", "notary_shown_offices": ["NO-WJ"]}
    agent = await followup("可以让我儿子代办吗", "notary_materials", **will)
    assert agent.startswith("遗嘱公证必须由本人亲自办理,不能委托他人代办(《公证法》第二十六条")
    documents = await followup("要带什么材料", "notary_materials", **will)
    assert "立遗嘱人的身份证" in documents and "必须由本人亲自办理" in documents
    power = {"notary_shown_matter": "power_of_attorney", "notary_shown_offices": ["NO-WJ"]}
    assert "可以委托他人代为办理" in await followup("能代办吗", "notary_materials", **power)
    hours = await followup("周六上班吗", "working_hours", **will)
    assert "周六、周日不办公" in hours


async def test_other_questions_get_their_usual_answer() -> None:
    assert await followup("法律援助要带什么材料", "legal_aid_materials", **SHOWN) == \
        "utter_faq/legal_aid_materials"
    assert await followup("12348是什么", "hotline_12348", **SHOWN) == "utter_faq/hotline_12348"
    assert aspect_of("要带什么材料", "legal_aid_materials") == "documents"
    assert aspect_of("周末开门吗", "notary_materials") == "hours"
    assert aspect_of("出国用还要认证吗", "notary_materials") == "abroad"
    assert aspect_of("随便问问", "ip_protection") is None


async def test_a_clarification_button_answers_in_context(sample: None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/inform{"faq_key": "notary_timeline"}', "inform", slots={
        "faq_key": "notary_timeline", "notary_shown": True, **SHOWN})
    await ActionAnswerFaq().run(dispatcher, tracker, {"responses": {
        "utter_faq/notary_timeline": [{"text": "x"}]}})
    assert dispatcher.messages[0]["text"].startswith("学历、学位公证一般5个工作日")

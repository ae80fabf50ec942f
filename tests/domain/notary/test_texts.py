"""What the notary finder says: cards, the Art. 25 line, and the law in the follow-ups."""

from __future__ import annotations

from datetime import datetime

from domain.booking import SHANGHAI, WorkCalendar, parse_hours
from domain.notary import (
    Basis,
    Jurisdiction,
    Office,
    Terms,
    destination,
    search,
    taxonomy,
)
from domain.notary import texts as notary_texts

NOW = datetime(2026, 9, 23, 10, 0, tzinfo=SHANGHAI)
WILL = Terms(matter="will", documents=("身份证", "房产证"), fee="按件收取", days=5,
             in_person=True, for_use_abroad=False)
OFFICE = Office(code="N1", name="甲公证处", district="武进区", address="路1号", phone=None,
                hours=parse_hours("mon-fri 09:00-12:00; sat 09:00-11:00"),
                matters={"will": WILL}, appointment_url="https://example.org/a",
                languages=("英语", "日语"))


def test_a_card_has_address_hours_now_and_links() -> None:
    will = taxonomy().matters["will"]
    result = search([OFFICE], will, Jurisdiction("武进区", Basis.RESIDENCE), NOW,
                    WorkCalendar())
    assert notary_texts.card(1, result.offices[0]) == (
        "1. 甲公证处\n地址:路1号\n电话:暂无\n"
        "办公时间:周一至周五 09:00–12:00；周六 09:00–11:00(现在在办公时间内)\n"
        "在线预约:https://example.org/a\n可出具外文译文:英语、日语")
    assert notary_texts.explanation(result) == (
        "按《公证法》第二十五条,申请公证可以向住所地、经常居住地、行为地或者事实发生地的"
        "公证机构提出:以下是您住所地(武进区)可以办理遗嘱公证的公证处。")
    data = notary_texts.card_data(result.offices[0])
    assert data["open_now"] is True and data["address"] == "路1号"


def test_the_law_in_the_follow_ups() -> None:
    will, poa = taxonomy().matters["will"], taxonomy().matters["power_of_attorney"]
    assert "第三十四条" not in notary_texts.fee_answer(will, WILL, legal_aid_eligible=False)
    assert "应当按照规定减免公证费(《公证法》第三十四条)" in notary_texts.fee_answer(
        will, WILL, legal_aid_eligible=True)
    assert "自受理公证申请之日起十五个工作日内出具公证书" in notary_texts.time_answer(
        will, None, abroad=False)
    assert "遗嘱、生存、收养关系等应当由本人办理" in notary_texts.agent_answer(will, WILL)
    assert "可以委托他人代为办理" in notary_texts.agent_answer(poa, None)
    assert "自2023年11月7日起" in notary_texts.abroad_answer(destination("去日本"))
    assert "仍需办理领事认证" in notary_texts.abroad_answer(destination("去越南"))

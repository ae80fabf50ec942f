"""The matter taxonomy, reading matters and places from messages, the Apostille routes, and
the checks on the directory's terms (公证法 Arts. 25, 26, 30)."""

from __future__ import annotations

from typing import Any

import pytest

from casedb.directory import districts
from domain.notary import (
    LEGAL_LIMIT_WORKING_DAYS,
    Places,
    Status,
    check_terms,
    destination,
    find_districts,
    for_use_abroad,
    read_places,
    taxonomy,
)


@pytest.mark.parametrize(("text", "service", "expected"), [
    ("我想办出国用的学历公证", "foreign_related", "education_abroad"),
    ("出国工作要无犯罪记录公证", "foreign_related", "no_criminal_record"),
    ("出国签证要亲属关系公证", "foreign_related", "kinship"),
    ("要办涉外公证", "foreign_related", None),  # which document? ask
    ("爸爸的房子要办继承公证", "inheritance", "inheritance"),
    ("想做个网页证据保全", "evidence_preservation", "evidence_preservation"),
    ("我想立遗嘱", "will", "will"),
    ("放弃继承的声明书要公证", "power_of_attorney", "declaration"),
    ("委托公证", "power_of_attorney", "power_of_attorney"),
    ("对方不收货款,我想提存", None, "escrow"),
    ("借条想做强制执行公证", None, "debt_enforcement"),
    ("找公证处", None, None),
])
def test_the_matter_a_message_names(text: str, service: str | None,
                                    expected: str | None) -> None:
    found = taxonomy().resolve(text, service)
    assert (found.code if found else None) == expected


def test_the_law_flags_of_the_taxonomy() -> None:
    matters = taxonomy().matters
    # Art. 26: 遗嘱、生存 … 应当由本人办理.
    assert {c for c, m in matters.items() if m.personal} == {"will", "survival"}
    # Art. 25: real estate goes where it lies, except 委托、声明、赠与、遗嘱.
    assert matters["inheritance"].property_rule and matters["contract"].property_rule
    assert not any(matters[c].property_rule for c in ("will", "power_of_attorney",
                                                       "declaration"))
    assert all(m.service in taxonomy().defaults for m in matters.values())
    assert taxonomy().mentions_property("武进有套老房子") and \
        not taxonomy().mentions_property("我想立遗嘱")


@pytest.mark.parametrize(("text", "expected"), [
    ("我想办出国用的学历公证，住在天宁区", Places(residence="天宁区")),
    ("我住在钟楼区,爸爸在武进区的房子要办继承公证",
     Places(residence="钟楼区", real_estate="武进区")),
    ("武进有一套房要继承,我户口在天宁", Places(residence="天宁区", real_estate="武进区")),
    ("房子在新北,我家住溧阳", Places(residence="溧阳市", real_estate="新北区")),
    ("合同在金坛签的", Places(act="金坛区")),
    ("天宁区", Places(named="天宁区")),
    ("公证处哪家好", Places()),
])
def test_districts_and_their_roles(text: str, expected: Places) -> None:
    assert read_places(text, find_districts(text, districts())) == expected


def test_district_mentions_take_the_longest_name() -> None:
    mentions = find_districts("常州高新区和武进区", districts())
    assert [(m.start, m.end, m.district) for m in mentions] == [
        (0, 5, "新北区"), (6, 9, "武进区")]


def test_apostille_or_consular_legalisation_by_destination() -> None:
    uk = destination("孩子要去英国留学")
    assert uk is not None and uk.status is Status.MEMBER
    australia = destination("去澳洲读研")
    assert australia is not None and (australia.country, australia.status) == (
        "澳大利亚", Status.MEMBER)
    vietnam = destination("拿到越南用")
    assert vietnam is not None and vietnam.status is Status.NON_MEMBER
    assert destination("出国用") is None
    assert for_use_abroad("出国用的学历公证") and not for_use_abroad("房产继承")


def terms(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"code": "will", "documents": ["身份证"], "fee": "按件收取",
                            "days": 5, "in_person": True, "for_use_abroad": False}
    item.update(overrides)
    return item


def test_terms_are_read_and_checked_against_the_law() -> None:
    read, problems = check_terms(terms())
    assert problems == [] and read is not None and read.in_person and read.days == 5
    _, problems = check_terms(terms(in_person=False))
    assert problems == ["in_person: will must be done in person "
                        "(公证法 Art. 26: 遗嘱、生存、收养关系等应当由本人办理)"]
    _, problems = check_terms(terms(days=LEGAL_LIMIT_WORKING_DAYS + 1))
    assert problems == ["days 16 is not a whole number from 1 to 15 "
                        "(公证法 Art. 30: 十五个工作日内)"]
    read, problems = check_terms(terms(code="power_of_attorney", in_person=False))
    assert problems == [] and read is not None and not read.in_person
    _, problems = check_terms(terms(colour="red", days=True))
    assert problems[0] == "unknown field(s) colour" and len(problems) == 2

"""The notary search: matter × district × property location, jurisdiction (公证法 Art. 25),
ranking, "open now" in Asia/Shanghai, and no match."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from domain.booking import SHANGHAI, WorkCalendar, parse_hours
from domain.booking.calendar import YearOverride
from domain.notary import (
    Basis,
    Found,
    Jurisdiction,
    MatterRule,
    Missing,
    Office,
    OpenState,
    Places,
    Terms,
    decide,
    open_now,
    search,
    taxonomy,
)

CALENDAR = WorkCalendar()
WEDNESDAY_10 = datetime(2026, 9, 23, 10, 0, tzinfo=SHANGHAI)
WEDNESDAY_18 = datetime(2026, 9, 23, 18, 0, tzinfo=SHANGHAI)
SATURDAY_10 = datetime(2026, 9, 19, 10, 0, tzinfo=SHANGHAI)
NATIONAL_DAY = datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)


def terms(code: str) -> Terms:
    return Terms(matter=code, documents=("身份证",), fee="按件收取", days=5,
                 in_person=code == "will", for_use_abroad=False)


def office(code: str, district: str, *, hours: str = "mon-fri 09:00-17:00",
           areas: tuple[str, ...] = (), matters: tuple[str, ...] = ("inheritance",)) -> Office:
    return Office(code=code, name=f"{code}公证处", district=district, address="示例路",
                  phone="0519-1", hours=parse_hours(hours), areas=areas,
                  matters={m: terms(m) for m in matters})


OFFICES = [
    office("CITY", "市级", hours="mon-fri 09:00-17:00; sat 09:00-12:00",
           areas=("天宁区", "钟楼区", "新北区"),
           matters=("inheritance", "education_abroad", "will", "evidence_preservation")),
    office("XB", "新北区", matters=("inheritance", "education_abroad")),
    office("XB2", "新北区", hours="mon-fri 13:00-17:00", matters=("education_abroad",)),
    office("WJ", "武进区", matters=("inheritance", "will")),
    office("WJ2", "武进区", matters=("will",)),
    office("WJ3", "武进区", matters=("will",)),
]


def matter(code: str) -> MatterRule:
    found = taxonomy().get(code)
    assert found is not None
    return found


def codes(offices: Iterable[Found]) -> list[str]:
    return [f.office.code for f in offices]


@pytest.mark.parametrize(("code", "places", "expected"), [
    # An inheritance of a flat in another district goes where the flat is.
    ("inheritance", Places(residence="钟楼区", real_estate="武进区"),
     Jurisdiction("武进区", Basis.PROPERTY)),
    # ...and asks where the property is when only the residence is known.
    ("inheritance", Places(residence="钟楼区"), Missing.PROPERTY),
    # A will about a flat may use the general rule (Art. 25 exception).
    ("will", Places(residence="钟楼区", real_estate="武进区"),
     Jurisdiction("钟楼区", Basis.PROPERTY_EXCEPTION)),
    ("education_abroad", Places(residence="天宁区"), Jurisdiction("天宁区", Basis.RESIDENCE)),
    ("contract", Places(act="新北区"), Jurisdiction("新北区", Basis.ACT)),
    ("education_abroad", Places(named="溧阳市"), Jurisdiction("溧阳市", Basis.NAMED)),
    ("education_abroad", Places(), Missing.PLACE),
])
def test_jurisdiction_follows_article_25(code: str, places: Places,
                                         expected: Jurisdiction | Missing) -> None:
    involves = code == "inheritance" and places.real_estate is None and \
        places.residence is not None
    assert decide(matter(code), places, involves_property=involves) == expected


def test_a_bare_district_answers_the_question_asked() -> None:
    assert decide(matter("inheritance"), Places(named="金坛区"), involves_property=True,
                  answer_to=Missing.PROPERTY) == Jurisdiction("金坛区", Basis.PROPERTY)
    assert decide(matter("will"), Places(named="金坛区"), involves_property=False,
                  answer_to=Missing.PLACE) == Jurisdiction("金坛区", Basis.RESIDENCE)


@pytest.mark.parametrize(("code", "where", "now", "expected"), [
    # Offices in the district first, then the ones serving it; open ones before closed ones.
    ("education_abroad", "新北区", WEDNESDAY_10, ["XB", "XB2", "CITY"]),
    ("education_abroad", "新北区", datetime(2026, 9, 23, 14, 0, tzinfo=SHANGHAI),
     ["XB", "XB2", "CITY"]),
    ("inheritance", "新北区", WEDNESDAY_10, ["XB", "CITY"]),
    ("inheritance", "天宁区", WEDNESDAY_10, ["CITY"]),
    ("inheritance", "武进区", WEDNESDAY_10, ["WJ"]),
    # At most three.
    ("will", "武进区", WEDNESDAY_10, ["WJ", "WJ2", "WJ3"]),
    ("evidence_preservation", "钟楼区", WEDNESDAY_10, ["CITY"]),
])
def test_offices_are_ranked_and_limited(code: str, where: str, now: datetime,
                                        expected: list[str]) -> None:
    result = search(OFFICES, matter(code), Jurisdiction(where, Basis.RESIDENCE), now,
                    CALENDAR)
    assert codes(result.offices) == expected and result.fallback is None


def test_open_offices_come_before_closed_ones_in_the_same_district() -> None:
    morning = search(OFFICES, matter("education_abroad"),
                     Jurisdiction("新北区", Basis.RESIDENCE),
                     datetime(2026, 9, 23, 9, 30, tzinfo=SHANGHAI), CALENDAR)
    assert [(f.office.code, f.now.state) for f in morning.offices][:2] == [
        ("XB", OpenState.OPEN), ("XB2", OpenState.CLOSED)]
    evening = search([OFFICES[2], OFFICES[1]], matter("education_abroad"),
                     Jurisdiction("新北区", Basis.RESIDENCE),
                     datetime(2026, 9, 23, 16, 0, tzinfo=SHANGHAI), CALENDAR)
    assert codes(evening.offices) == ["XB", "XB2"]  # both open: by code
    only_afternoon = search([OFFICES[1], OFFICES[2]], matter("education_abroad"),
                            Jurisdiction("新北区", Basis.RESIDENCE),
                            datetime(2026, 9, 23, 18, 0, tzinfo=SHANGHAI), CALENDAR)
    assert [f.now.state for f in only_afternoon.offices] == [OpenState.CLOSED] * 2


def test_no_match_offers_the_city_wide_office() -> None:
    result = search(OFFICES, matter("will"), Jurisdiction("溧阳市", Basis.RESIDENCE),
                    WEDNESDAY_10, CALENDAR)
    assert result.offices == () and result.fallback is not None
    assert result.fallback.office.code == "CITY"
    assert result.terms() == terms("will")
    nothing = search(OFFICES[1:], matter("will"), Jurisdiction("溧阳市", Basis.RESIDENCE),
                     WEDNESDAY_10, CALENDAR)
    assert nothing.offices == () and nothing.fallback is None and nothing.terms() is None


def test_a_matter_no_office_handles_is_no_match() -> None:
    result = search(OFFICES, matter("escrow"), Jurisdiction("天宁区", Basis.RESIDENCE),
                    WEDNESDAY_10, CALENDAR)
    assert result.offices == () and result.fallback is not None


@pytest.mark.parametrize(("now", "state"), [
    (WEDNESDAY_10, OpenState.OPEN),
    (WEDNESDAY_18, OpenState.CLOSED),
    (datetime(2026, 9, 23, 17, 0, tzinfo=SHANGHAI), OpenState.CLOSED),  # closing time
    (SATURDAY_10, OpenState.OPEN),  # this office opens Saturday mornings
    (datetime(2026, 9, 13, 10, 0, tzinfo=SHANGHAI), OpenState.CLOSED),  # Sunday
    (datetime(2026, 9, 26, 10, 0, tzinfo=SHANGHAI), OpenState.HOLIDAY),  # 中秋节, a Saturday
    (NATIONAL_DAY, OpenState.HOLIDAY),
    # A UTC clock: 02:00 UTC is 10:00 in Shanghai.
    (datetime(2026, 9, 23, 2, 0, tzinfo=UTC), OpenState.OPEN),
])
def test_open_now_in_shanghai(now: datetime, state: OpenState) -> None:
    hours = parse_hours("mon-fri 09:00-12:00,13:30-17:00; sat 09:00-12:00")
    assert open_now(hours, now, CALENDAR).state is state


def test_a_make_up_working_day_keeps_monday_hours() -> None:
    sunday = datetime(2026, 9, 20, 10, 0, tzinfo=SHANGHAI)  # 调休上班 for National Day
    hours = parse_hours("mon-fri 09:00-12:00")
    assert open_now(hours, sunday, CALENDAR).state is OpenState.OPEN
    plain = datetime(2026, 9, 13, 10, 0, tzinfo=SHANGHAI)
    assert open_now(hours, plain, CALENDAR).state is OpenState.CLOSED
    own = WorkCalendar({2026: YearOverride(workdays=frozenset({plain.date()}))})
    assert open_now(hours, plain, own).state is OpenState.OPEN
    holiday = open_now(hours, NATIONAL_DAY, CALENDAR)
    assert holiday.holiday == "National Day"

from __future__ import annotations

import logging
from datetime import date

import pytest

from domain.booking import DayKind, WorkCalendar, default_calendar
from domain.booking.calendar import YearOverride

DAYS = [
    (date(2026, 9, 24), DayKind.WORKDAY),
    (date(2026, 9, 25), DayKind.HOLIDAY),  # 中秋
    (date(2026, 10, 1), DayKind.HOLIDAY),  # 国庆
    (date(2026, 10, 7), DayKind.HOLIDAY),  # day off in lieu
    (date(2026, 10, 10), DayKind.MAKEUP_WORKDAY),  # Saturday, worked
    (date(2026, 9, 20), DayKind.MAKEUP_WORKDAY),  # Sunday, worked
    (date(2026, 2, 14), DayKind.MAKEUP_WORKDAY),
    (date(2026, 11, 28), DayKind.WEEKEND),
    (date(2026, 1, 1), DayKind.HOLIDAY),
]


@pytest.mark.parametrize(("day", "kind"), DAYS)
def test_day_kinds(day: date, kind: DayKind) -> None:
    info = default_calendar().info(day)
    assert info.kind is kind and info.known
    assert info.is_working == (kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY))


def test_next_and_previous_working_day_skip_holidays() -> None:
    cal = default_calendar()
    assert cal.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert cal.previous_working_day(date(2026, 10, 8)) == date(2026, 9, 30)
    assert cal.next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)


def test_unknown_year_is_weekday_only_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkCalendar(fixed_holidays={(1, 1): "New Year's Day"})
    with caplog.at_level(logging.WARNING):
        monday = cal.info(date(2031, 1, 6))
        cal.info(date(2031, 1, 7))
    assert monday.kind is DayKind.WORKDAY and not monday.known
    assert cal.info(date(2031, 1, 1)).kind is DayKind.HOLIDAY
    assert cal.info(date(2031, 1, 4)).kind is DayKind.WEEKEND
    assert sum("no holiday data for 2031" in r.message for r in caplog.records) == 1


def test_overrides_make_a_year_known() -> None:
    cal = WorkCalendar({2031: YearOverride({date(2031, 1, 2): "New Year's Day"},
                                           frozenset({date(2031, 1, 4)}))})
    assert cal.info(date(2031, 1, 2)).kind is DayKind.HOLIDAY
    assert cal.info(date(2031, 1, 4)).kind is DayKind.MAKEUP_WORKDAY
    assert cal.info(date(2031, 1, 6)).known

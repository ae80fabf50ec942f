"""Time resolution against a fixed "now": Wednesday 2026-09-23 10:00 in Asia/Shanghai.

The calendar around it: 中秋 25-27 Sep (Fri-Sun), 国庆 1-7 Oct, and Saturday 10 Oct is a
make-up working day (调休上班). Bookings are possible up to 60 days ahead (22 Nov).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.booking import SHANGHAI, Granularity, Problem, Unresolved, Wish, resolve

NOW = datetime(2026, 9, 23, 10, 0, tzinfo=SHANGHAI)

CASES = [
    # exact times
    ("明天下午两点", "exact 2026-09-24 14:00"),
    ("明天下午2:30", "exact 2026-09-24 14:30"),
    ("明天14点", "exact 2026-09-24 14:00"),
    ("下周三下午三点", "exact 2026-09-30 15:00"),
    ("周四上午十点半", "exact 2026-09-24 10:30"),
    ("我想约明天下午两点", "exact 2026-09-24 14:00"),
    ("三点", "exact 2026-09-23 15:00"),  # a bare 1-6 o'clock is the afternoon
    ("两点一刻", "exact 2026-09-23 14:15"),
    ("九点", "exact 2026-09-24 09:00"),  # 9:00 passed today: tomorrow
    ("10月10日上午9点", "exact 2026-10-10 09:00"),  # make-up working day (Saturday)
    # vague parts of a day -> a window
    ("下周三上午", "window 2026-09-30 07:00-12:00"),
    ("今天下午", "window 2026-09-23 13:00-18:00"),
    ("今天晚上", "window 2026-09-23 18:00-00:00"),
    ("明天上午", "window 2026-09-24 07:00-12:00"),
    ("明早", "window 2026-09-24 06:00-10:00"),
    ("11月2日下午", "window 2026-11-02 13:00-18:00"),
    ("十月九号下午", "window 2026-10-09 13:00-18:00"),
    ("明天上午9点到10点", "window 2026-09-24 09:00-10:00"),
    # whole days and weeks
    ("10月10日", "day 2026-10-10"),  # make-up working day
    ("10月8日", "day 2026-10-08"),
    ("10/9", "day 2026-10-09"),
    ("周一", "day 2026-09-28"),  # a bare weekday that passed: next week's
    ("下周", "days 2026-09-28..2026-10-05"),
    # statutory holidays and weekends
    ("后天", "holiday"),  # 25 Sep, 中秋
    ("周五", "holiday"),
    ("10月1日", "holiday"),
    ("国庆节", "holiday"),
    ("10月3日", "holiday"),  # a Saturday inside the National Day holiday
    ("周日上午", "holiday"),
    ("下下周一", "holiday"),  # 5 Oct
    ("10月2日到10月5日", "no_working_day"),
    # not possible
    ("昨天", "past"),
    ("上周五", "past"),
    ("2026年9月1日", "past"),
    ("11月28日", "too_far"),
    ("12月3号14:30", "too_far"),
    ("13月1号", "invalid_date"),
    ("2月30日", "invalid_date"),
    ("明天25点", "invalid_time"),
    ("明天10:70", "invalid_time"),
    ("周二或周三", "ambiguous"),
    ("随便", "unparseable"),
    ("", "empty"),
]


def summary(result: Wish | Unresolved) -> str:
    if isinstance(result, Unresolved):
        return result.problem.value
    start, end = result.start, result.end
    if result.granularity is Granularity.EXACT:
        return f"exact {start:%Y-%m-%d %H:%M}"
    if result.granularity is Granularity.WINDOW:
        return f"window {start:%Y-%m-%d %H:%M}-{end:%H:%M}"
    if result.granularity is Granularity.DAY:
        return f"day {start:%Y-%m-%d}"
    return f"days {start:%Y-%m-%d}..{end:%Y-%m-%d}"


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_resolution(text: str, expected: str) -> None:
    assert summary(resolve(text, NOW)) == expected


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("text", [c[0] for c in CASES if c[1].split()[0] not in
                                  ("exact", "window", "day", "days")])
def test_every_refusal_asks_a_chinese_question(text: str) -> None:
    result = resolve(text, NOW)
    assert isinstance(result, Unresolved)
    assert result.question and any("\u4e00" <= ch <= "\u9fff" for ch in result.question)
    assert result.question.endswith(("？", "。", "?"))


def test_questions_name_the_reason() -> None:
    holiday = resolve("后天", NOW)
    assert isinstance(holiday, Unresolved)
    assert holiday.question.startswith("9月25日是中秋节假期")
    assert holiday.anchor == datetime(2026, 9, 25, tzinfo=SHANGHAI)
    invalid = resolve("13月1号", NOW)
    assert isinstance(invalid, Unresolved) and "13月1号" in invalid.question
    past = resolve("昨天", NOW)
    assert isinstance(past, Unresolved) and past.anchor == NOW and "已经过去" in past.question
    far = resolve("12月3号14:30", NOW)
    assert isinstance(far, Unresolved) and "60天" in far.question


def test_results_are_in_shanghai_whatever_the_zone_of_now() -> None:
    from datetime import UTC
    wish = resolve("明天下午两点", NOW.astimezone(UTC))
    assert isinstance(wish, Wish)
    assert wish.start.utcoffset() == SHANGHAI.utcoffset(wish.start)
    assert wish.start.astimezone(UTC).hour == 6
    with pytest.raises(ValueError):
        resolve("明天", NOW.replace(tzinfo=None))


def test_a_year_without_holiday_data_is_weekday_only_and_says_so() -> None:
    december = datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI)
    wish = resolve("1月4日", december)
    assert isinstance(wish, Wish) and not wish.calendar_known
    assert wish.caveat() is not None and "2027年" in (wish.caveat() or "")
    new_year = resolve("元旦", december)  # fixed-date holiday, still closed
    assert isinstance(new_year, Unresolved) and new_year.problem is Problem.HOLIDAY
    assert "2027年的法定节假日安排还没有录入" in new_year.question
    known = resolve("明天", NOW)
    assert isinstance(known, Wish) and known.calendar_known and known.caveat() is None


def test_describe_is_chinese() -> None:
    exact = resolve("明天下午两点", NOW)
    window = resolve("下周三上午", NOW)
    assert isinstance(exact, Wish) and exact.describe() == "9月24日(周四)14:00"
    assert isinstance(window, Wish) and window.describe() == "9月30日(周三)07:00–12:00"

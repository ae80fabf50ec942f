from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from domain.booking import (
    SHANGHAI,
    HoursError,
    MatchProblem,
    Period,
    Schedule,
    Wish,
    default_calendar,
    describe_hours,
    format_hours,
    free_slots,
    match,
    nearest_free,
    parse_hours,
    reminder_cutoff,
    resolve,
)

NOW = datetime(2026, 9, 23, 10, 0, tzinfo=SHANGHAI)  # Wednesday
CAL = default_calendar()
SCHEDULE = Schedule(parse_hours("mon-fri 09:00-12:00,13:30-17:00"), 30, 2)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def wish(text: str) -> Wish:
    result = resolve(text, NOW)
    assert isinstance(result, Wish), result
    return result


def test_parse_hours_forms() -> None:
    assert parse_hours("mon-fri 09:00-12:00") == parse_hours("周一至周五 09:00-12:00")
    periods = parse_hours("mon,wed,fri 09:00-12:00; tue 14:00-17:00；sat 09:00-11:30")
    assert [p.weekday for p in periods] == [0, 1, 2, 4, 5]
    assert format_hours(SCHEDULE.periods) == "mon-fri 09:00-12:00,13:30-17:00"
    assert describe_hours(SCHEDULE.periods) == "周一至周五 09:00–12:00、13:30–17:00"


@pytest.mark.parametrize("spec", ["", "mon-fri", "funday 09:00-12:00", "mon 12:00-09:00",
                                  "mon 09:00-12:00,11:00-13:00", "mon 25:00-26:00",
                                  "fri-mon 09:00-10:00", "mon 9-12"])
def test_bad_hours_are_refused(spec: str) -> None:
    with pytest.raises(HoursError):
        parse_hours(spec)


def test_slots_fit_inside_periods_and_skip_holidays() -> None:
    odd = Schedule((Period(0, time(9), time(10, 45)),), 30, 1)
    assert [s.hour * 60 + s.minute for s in odd.starts_on(date(2026, 9, 28), CAL)] == \
        [540, 570, 600]
    assert list(SCHEDULE.starts_on(date(2026, 10, 1), CAL)) == []  # National Day
    assert list(SCHEDULE.starts_on(date(2026, 9, 26), CAL)) == []  # Saturday
    # make-up working day (Saturday 10 Oct): Monday's hours
    assert len(list(SCHEDULE.starts_on(date(2026, 10, 10), CAL))) == 13


def test_free_slots_count_bookings_and_never_the_past() -> None:
    taken = {at(9, 23, 14).astimezone(UTC): 2, at(9, 23, 14, 30).astimezone(UTC): 1}
    slots = free_slots(SCHEDULE, CAL, taken, at(9, 23, 0), at(9, 24, 0), NOW)
    starts = [s.start for s in slots]
    assert at(9, 23, 9, 30) not in starts and at(9, 23, 10) not in starts  # not after now
    assert at(9, 23, 10, 30) in starts
    assert at(9, 23, 14) not in starts  # full
    assert next(s for s in slots if s.start == at(9, 23, 14, 30)).free == 1


def test_exact_free_slot_is_matched() -> None:
    result = match(wish("明天下午两点"), SCHEDULE, CAL, {}, NOW)
    assert result.slot is not None and result.slot.start == at(9, 24, 14)
    assert result.problem is None


def test_full_slot_offers_the_three_nearest() -> None:
    taken = {at(9, 24, 14): 2}
    result = match(wish("明天下午两点"), SCHEDULE, CAL, taken, NOW)
    assert result.slot is None and result.problem is MatchProblem.FULL
    assert [s.start for s in result.choices] == [at(9, 24, 13, 30), at(9, 24, 14, 30),
                                                 at(9, 24, 15)]
    assert "约满" in result.message and "9月24日(周四)13:30" in result.message


def test_holiday_anchor_offers_slots_around_it() -> None:
    nearest = nearest_free(SCHEDULE, CAL, {}, at(10, 1, 10), NOW)
    assert [s.start for s in nearest] == [at(9, 30, 15, 30), at(9, 30, 16), at(9, 30, 16, 30)]


def test_windows_list_free_slots_inside() -> None:
    result = match(wish("下周三上午"), SCHEDULE, CAL, {}, NOW)
    assert result.slot is None and result.problem is None
    assert [s.start for s in result.choices] == [at(9, 30, 9), at(9, 30, 9, 30), at(9, 30, 10)]


def test_outside_hours_and_off_grid_times() -> None:
    evening = match(wish("今天晚上"), SCHEDULE, CAL, {}, NOW)
    assert evening.problem is MatchProblem.OUTSIDE_HOURS and len(evening.choices) == 3
    assert "接待时间" in evening.message
    off_grid = match(wish("明天下午两点十分"), SCHEDULE, CAL, {}, NOW)
    assert off_grid.problem is MatchProblem.NOT_SLOT_START
    assert at(9, 24, 14) in [s.start for s in off_grid.choices]


def test_full_window_and_nothing_left() -> None:
    one = Schedule((Period(2, time(9), time(10)),), 60, 1)  # Wednesdays 9-10 only
    taken = {at(9, 30, 9): 1}
    result = match(wish("下周三上午"), one, CAL, taken, NOW, horizon_days=21)
    assert result.problem is MatchProblem.NONE_IN_WINDOW
    assert [s.start for s in result.choices] == [at(10, 14, 9)]  # 7 Oct is a holiday
    everything = {at(9, 30, 9): 1, at(10, 14, 9): 1}
    nothing = match(wish("下周三上午"), one, CAL, everything, NOW, horizon_days=21)
    assert nothing.problem is MatchProblem.NO_SLOTS and "12348" in nothing.message


def test_reminder_cutoff_is_the_next_working_day() -> None:
    assert reminder_cutoff(at(9, 23, 8, 59), CAL) is None  # before 09:00
    assert reminder_cutoff(at(9, 23, 9), CAL) == at(9, 25, 0)  # Thursday's bookings
    # Wednesday 30 Sep: the next working day is Thursday 8 Oct
    assert reminder_cutoff(at(9, 30, 9), CAL) == at(10, 9, 0)
    assert reminder_cutoff(at(10, 3, 10), CAL) is None  # holiday: nothing is sent
    # Friday 9 Oct: Saturday 10 Oct is a make-up working day
    assert reminder_cutoff(at(10, 9, 9), CAL) == at(10, 11, 0)

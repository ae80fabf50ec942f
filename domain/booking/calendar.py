"""Working days in mainland China: weekends, statutory holidays and make-up working days.

The holidays and make-up working days (调休上班) come from the `chinese_calendar` library, which
carries the State Council's yearly notices; `data/calendar.yaml` lets the bureau add a year the
installed library does not know yet. A year known to neither is not guessed: it counts Monday to
Friday as working days, `DayInfo.known` is False (callers add the `calendar_unknown` caveat)
and a warning is logged once per year.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

log = logging.getLogger(__name__)
DATA_DIR = Path(__file__).parent / "data"


class DayKind(enum.StrEnum):
    WORKDAY = "workday"  # Monday to Friday, no holiday
    MAKEUP_WORKDAY = "makeup_workday"  # a weekend day worked in exchange for a holiday
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # a statutory holiday or a day off in lieu


@dataclass(frozen=True)
class DayInfo:
    day: date
    kind: DayKind
    holiday: str | None = None  # the library's English name, see texts.yaml `holidays`
    known: bool = True  # False: the year's holidays are unknown, weekday-only guess

    @property
    def is_working(self) -> bool:
        return self.kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)


@dataclass(frozen=True)
class YearOverride:
    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: frozenset[date] = frozenset()


class WorkCalendar:
    """Answers "is this a working day?" for any date; see the module docstring."""

    def __init__(self, overrides: Mapping[int, YearOverride] | None = None,
                 fixed_holidays: Mapping[tuple[int, int], str] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.fixed_holidays = dict(fixed_holidays or {})
        self._warned: set[int] = set()

    def info(self, day: date) -> DayInfo:
        override = self.overrides.get(day.year)
        if override is not None:
            if day in override.workdays:
                return DayInfo(day, DayKind.MAKEUP_WORKDAY)
            if day in override.holidays:
                return DayInfo(day, DayKind.HOLIDAY, override.holidays[day])
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            if override is not None:
                return self._plain(day, known=True)
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("no holiday data for %s: counting Monday-Friday as working days "
                            "except fixed-date holidays (add the year to "
                            "domain/booking/data/calendar.yaml)", day.year)
            fixed = self.fixed_holidays.get((day.month, day.day))
            if fixed is not None:
                return DayInfo(day, DayKind.HOLIDAY, fixed, known=False)
            return self._plain(day, known=False)
        weekend = day.weekday() >= 5
        if is_holiday:
            if name is None and weekend:
                return DayInfo(day, DayKind.WEEKEND)
            return DayInfo(day, DayKind.HOLIDAY, name)
        if weekend:
            return DayInfo(day, DayKind.MAKEUP_WORKDAY, name)
        return DayInfo(day, DayKind.WORKDAY)

    @staticmethod
    def _plain(day: date, *, known: bool) -> DayInfo:
        kind = DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKDAY
        return DayInfo(day, kind, known=known)

    def is_working_day(self, day: date) -> bool:
        return self.info(day).is_working

    def is_known(self, day: date) -> bool:
        return self.info(day).known

    def next_working_day(self, day: date, *, limit: int = 60) -> date:
        """The first working day strictly after `day`."""
        for candidate in self.days(day + timedelta(days=1), limit):
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {limit} days after {day}")

    def previous_working_day(self, day: date, *, limit: int = 60) -> date:
        """The last working day strictly before `day`."""
        for offset in range(1, limit + 1):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {limit} days before {day}")

    @staticmethod
    def days(start: date, count: int) -> Iterator[date]:
        for offset in range(count):
            yield start + timedelta(days=offset)


def load_fixed_holidays(path: Path) -> dict[tuple[int, int], str]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result: dict[tuple[int, int], str] = {}
    for key, name in (data.get("fixed_holidays") or {}).items():
        month, _, day = str(key).partition("-")
        result[(int(month), int(day))] = str(name)
    return result


def load_overrides(path: Path) -> dict[int, YearOverride]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    years = data.get("years") or {}
    if not isinstance(years, dict):
        raise ValueError(f"{path}: 'years' must be a mapping")
    result: dict[int, YearOverride] = {}
    for year, entry in years.items():
        entry = entry or {}
        holidays = {_as_date(d, path): str(n) for d, n in (entry.get("holidays") or {}).items()}
        workdays = frozenset(_as_date(d, path) for d in entry.get("workdays") or [])
        for day in (*holidays, *workdays):
            if day.year != int(year):
                raise ValueError(f"{path}: {day} listed under year {year}")
        result[int(year)] = YearOverride(holidays, workdays)
    return result


def _as_date(value: Any, path: Path) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{path}: {value!r} is not a date (YYYY-MM-DD)") from exc


@functools.cache
def default_calendar() -> WorkCalendar:
    path = DATA_DIR / "calendar.yaml"
    return WorkCalendar(load_overrides(path), load_fixed_holidays(path))

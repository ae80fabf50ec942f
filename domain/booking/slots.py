"""Consultation slots of a contact point: opening hours → slots → free ones → what to offer.

Pure: the caller passes the opening hours, the number of active bookings per slot start
(`taken`, from the case database) and `now`. Times are aware datetimes; slots are produced in
Asia/Shanghai and `taken` may be keyed in any timezone (the database gives UTC).

Rules:
- slots only on working days (`WorkCalendar`); a make-up working day (调休上班, usually a
  Saturday or Sunday) keeps the hours of that weekday if the point opens then, else Monday's
  hours (the State Council notices make those days "work as on a weekday");
- a slot lies entirely inside one opening period; it is free while `taken < capacity`;
- never in the past: a slot is offered only if it starts after `now`;
- when a wish cannot be met, the `count` (3) free slots nearest to it are offered, in time
  order.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.booking.calendar import DayKind, WorkCalendar
from domain.booking.texts import texts
from domain.booking.when import HORIZON_DAYS, SHANGHAI, Granularity, Wish

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {code: i for i, code in enumerate(WEEKDAY_CODES)}
_DAY_NAMES.update({name: i for i, name in enumerate(
    ("周一", "周二", "周三", "周四", "周五", "周六", "周日"))})
_DAY_NAMES.update({"周天": 6, "星期日": 6, "星期天": 6})
_DAY_NAMES.update({f"星期{c}": i for i, c in enumerate("一二三四五六")})
_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~至到]\s*(\d{1,2}):(\d{2})$")
MAX_SLOT_MINUTES = 480
MAX_CAPACITY = 100


class HoursError(ValueError):
    """An opening-hours text that cannot be read; the message says why (English, for staff)."""


@dataclass(frozen=True, order=True)
class Period:
    """One opening period on one weekday (0 = Monday): [opens, closes)."""

    weekday: int
    opens: time
    closes: time


def parse_hours(spec: str) -> tuple[Period, ...]:
    """Read "mon-fri 09:00-12:00,13:30-17:00; sat 09:00-11:30" (also 周一至周五, 、, ；)."""
    periods: list[Period] = []
    groups = [g.strip() for g in re.split(r"[;；\n]", spec) if g.strip()]
    if not groups:
        raise HoursError("no opening hours")
    for group in groups:
        parts = group.split(None, 1)
        if len(parts) != 2:
            raise HoursError(f"{group!r}: expected days then times, e.g. 'mon-fri 09:00-17:00'")
        days = _parse_days(parts[0])
        for token in re.split(r"[,，、]", parts[1]):
            token = token.strip()
            match = _TIME_RANGE.match(token)
            if match is None:
                raise HoursError(f"{token!r}: expected a time range like 09:00-12:00")
            h1, m1, h2, m2 = (int(x) for x in match.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
                raise HoursError(f"{token!r}: not a time of day")
            opens = time(h1, m1)
            closes = time(23, 59) if h2 == 24 else time(h2, m2)
            if closes <= opens:
                raise HoursError(f"{token!r}: closes before it opens")
            periods.extend(Period(d, opens, closes) for d in days)
    periods.sort()
    for a, b in itertools.pairwise(periods):
        if a.weekday == b.weekday and b.opens < a.closes:
            raise HoursError(f"overlapping periods on {WEEKDAY_CODES[a.weekday]}")
    return tuple(periods)


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for item in re.split(r"[,，、]", text.strip().lower()):
        bounds = re.split(r"[-–~至到]", item.strip())
        if len(bounds) > 2 or any(b not in _DAY_NAMES for b in bounds):
            raise HoursError(f"{item!r}: expected weekdays like mon-fri or 周一至周五")
        first, last = _DAY_NAMES[bounds[0]], _DAY_NAMES[bounds[-1]]
        if last < first:
            raise HoursError(f"{item!r}: the week runs from mon to sun")
        days.extend(range(first, last + 1))
    return sorted(set(days))


def format_hours(periods: Iterable[Period]) -> str:
    """The canonical text of `parse_hours` ("mon-fri 09:00-12:00,13:30-17:00")."""
    return "; ".join(f"{_day_range(days, WEEKDAY_CODES, '-')} {times}"
                     for days, times in _grouped(periods))


def describe_hours(periods: Iterable[Period]) -> str:
    """Chinese: "周一至周五 09:00–12:00、13:30–17:00"."""
    names = tuple(texts().weekday(i) for i in range(7))
    return "；".join(f"{_day_range(days, names, '至')} {times.replace(',', '、')}"
                    .replace("-", "–") for days, times in _grouped(periods)) or \
        texts().get("slots.hours_closed")


def _grouped(periods: Iterable[Period]) -> list[tuple[list[int], str]]:
    by_day: dict[int, list[str]] = {}
    for p in sorted(periods):
        by_day.setdefault(p.weekday, []).append(f"{p.opens:%H:%M}-{p.closes:%H:%M}")
    groups: list[tuple[list[int], str]] = []
    for day, ranges in sorted(by_day.items()):
        joined = ",".join(ranges)
        if groups and groups[-1][1] == joined and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], joined))
    return groups


def _day_range(days: list[int], names: tuple[str, ...], dash: str) -> str:
    if len(days) == 1:
        return names[days[0]]
    return f"{names[days[0]]}{dash}{names[days[-1]]}"


@dataclass(frozen=True)
class Schedule:
    periods: tuple[Period, ...]
    slot_minutes: int
    capacity: int

    def __post_init__(self) -> None:
        if not 5 <= self.slot_minutes <= MAX_SLOT_MINUTES:
            raise ValueError(f"slot length {self.slot_minutes} minutes is not 5-480")
        if not 1 <= self.capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity {self.capacity} is not 1-{MAX_CAPACITY}")

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    def periods_on(self, day: date, calendar: WorkCalendar) -> list[Period]:
        info = calendar.info(day)
        if not info.is_working:
            return []
        own = [p for p in self.periods if p.weekday == day.weekday()]
        if own or info.kind is not DayKind.MAKEUP_WORKDAY:
            return own
        return [p for p in self.periods if p.weekday == 0]

    def starts_on(self, day: date, calendar: WorkCalendar) -> Iterator[datetime]:
        for period in self.periods_on(day, calendar):
            start = datetime.combine(day, period.opens, SHANGHAI)
            closes = datetime.combine(day, period.closes, SHANGHAI)
            while start + self.slot_length <= closes:
                yield start
                start += self.slot_length

    def describe(self) -> str:
        return describe_hours(self.periods)


@dataclass(frozen=True)
class Slot:
    start: datetime  # Asia/Shanghai
    free: int

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    def describe(self, now: datetime | None = None) -> str:
        return texts().slot(self.start, now=now.astimezone(SHANGHAI) if now else None)


def _taken_local(taken: Mapping[datetime, int]) -> dict[datetime, int]:
    return {k.astimezone(SHANGHAI): v for k, v in taken.items()}


def free_slots(schedule: Schedule, calendar: WorkCalendar, taken: Mapping[datetime, int],
               start: datetime, end: datetime, now: datetime) -> list[Slot]:
    """The free slots starting in [start, end) and after `now`, in time order."""
    used = _taken_local(taken)
    result: list[Slot] = []
    day = start.astimezone(SHANGHAI).date()
    last = end.astimezone(SHANGHAI).date()
    while day <= last:
        for slot_start in schedule.starts_on(day, calendar):
            if start <= slot_start < end and slot_start > now:
                free = schedule.capacity - used.get(slot_start, 0)
                if free > 0:
                    result.append(Slot(slot_start, free))
        day += timedelta(days=1)
    return result


def nearest_free(schedule: Schedule, calendar: WorkCalendar, taken: Mapping[datetime, int],
                 anchor: datetime, now: datetime, *, count: int = 3,
                 horizon_days: int = HORIZON_DAYS) -> list[Slot]:
    """The `count` free slots nearest to `anchor` (before or after it), in time order."""
    anchor = max(anchor, now)
    window_start = max(now, anchor - timedelta(days=14))
    window_end = datetime.combine(now.astimezone(SHANGHAI).date()
                                  + timedelta(days=horizon_days + 1), time(), SHANGHAI)
    candidates = free_slots(schedule, calendar, taken, window_start, window_end, now)
    candidates.sort(key=lambda s: (abs(s.start - anchor), s.start))
    return sorted(candidates[:count], key=lambda s: s.start)


class MatchProblem(enum.StrEnum):
    CLOSED_DAY = "closed_day"  # the point does not open that day
    OUTSIDE_HOURS = "outside_hours"  # the point is not open then
    NOT_SLOT_START = "not_slot_start"  # open, but slots start elsewhere ("14:10")
    FULL = "full"  # the exact slot is fully booked
    NONE_IN_WINDOW = "none_in_window"  # a part of a day / day / days with no free slot
    NO_SLOTS = "no_slots"  # nothing free at all within the horizon


@dataclass(frozen=True)
class Match:
    slot: Slot | None  # the exact slot asked for, free: book it (after a confirmation)
    choices: tuple[Slot, ...] = ()  # else: free slots to offer
    problem: MatchProblem | None = None
    message: str = ""  # Chinese, for when `slot` is None


def match(wish: Wish, schedule: Schedule, calendar: WorkCalendar,
          taken: Mapping[datetime, int], now: datetime, *, count: int = 3,
          horizon_days: int = HORIZON_DAYS) -> Match:
    """Meet the wish with a free slot, or explain and offer the nearest `count` free ones."""
    t = texts()
    when = wish.describe()
    if wish.granularity is Granularity.EXACT:
        start = wish.start.astimezone(SHANGHAI)
        starts = list(schedule.starts_on(start.date(), calendar))
        if start in starts:
            free = schedule.capacity - _taken_local(taken).get(start, 0)
            if free > 0 and start > now:
                return Match(Slot(start, free))
            problem = MatchProblem.FULL
            reason = t.get("slots.full", when=when)
        elif not starts:
            problem = MatchProblem.CLOSED_DAY
            reason = t.get("slots.closed_day", when=t.day(start))
        elif any(s <= start < s + schedule.slot_length for s in starts):
            problem = MatchProblem.NOT_SLOT_START
            reason = t.get("slots.not_slot_start", when=when, minutes=schedule.slot_minutes)
        else:
            problem = MatchProblem.OUTSIDE_HOURS
            reason = t.get("slots.outside_hours", when=when, hours=schedule.describe())
        anchor = start
    else:
        inside = free_slots(schedule, calendar, taken, wish.start, wish.end, now)
        if inside:
            choices = tuple(inside[:count])
            listed = "、".join(s.describe(now) for s in choices)
            return Match(None, choices, None, t.get("slots.choose_in_window", when=when,
                                                    choices=listed))
        days = list(_dates(wish.start, wish.end))
        open_in_window = any(wish.start <= s < wish.end
                             for d in days for s in schedule.starts_on(d, calendar))
        if open_in_window:
            problem = MatchProblem.NONE_IN_WINDOW
            reason = t.get("slots.none_in_window", when=when)
        elif any(schedule.periods_on(d, calendar) for d in days):
            problem = MatchProblem.OUTSIDE_HOURS
            reason = t.get("slots.outside_hours", when=when, hours=schedule.describe())
        else:
            problem = MatchProblem.CLOSED_DAY
            reason = t.get("slots.closed_day", when=when)
        anchor = wish.start
    return offer_nearest(schedule, calendar, taken, anchor, now, problem, reason,
                         count=count, horizon_days=horizon_days)


def offer_nearest(schedule: Schedule, calendar: WorkCalendar, taken: Mapping[datetime, int],
                  anchor: datetime, now: datetime, problem: MatchProblem, reason: str, *,
                  count: int = 3, horizon_days: int = HORIZON_DAYS) -> Match:
    """`reason` followed by the nearest free slots (or, if none, the "no slots" advice)."""
    t = texts()
    choices = tuple(nearest_free(schedule, calendar, taken, anchor, now, count=count,
                                 horizon_days=horizon_days))
    if not choices:
        return Match(None, (), MatchProblem.NO_SLOTS, reason + t.get("slots.no_slots"))
    listed = "、".join(s.describe(now) for s in choices)
    return Match(None, choices, problem, reason + t.get("slots.alternatives", choices=listed))


def _dates(start: datetime, end: datetime) -> Iterator[date]:
    day = start.astimezone(SHANGHAI).date()
    last = (end - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    while day <= last:
        yield day
        day += timedelta(days=1)

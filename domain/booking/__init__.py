"""Consultation bookings at legal-service contact points (issue 5): pure logic, no database.

- `when.resolve(text, now)` → `Wish` (an exact time, a window, a day or days) or `Unresolved`
  (a reason and a Chinese question back);
- `calendar.WorkCalendar` → working days (statutory holidays and make-up working days);
- `slots.match(wish, schedule, calendar, taken, now)` → the free slot, or the nearest three;
- `reminders.reminder_cutoff(now, calendar)` → which reminders are due.
"""

from domain.booking.calendar import DayInfo, DayKind, WorkCalendar, default_calendar
from domain.booking.reminders import reminder_cutoff, reminder_text
from domain.booking.slots import (
    HoursError,
    Match,
    MatchProblem,
    Period,
    Schedule,
    Slot,
    describe_hours,
    format_hours,
    free_slots,
    match,
    nearest_free,
    offer_nearest,
    parse_hours,
)
from domain.booking.texts import texts
from domain.booking.when import SHANGHAI, Granularity, Problem, Unresolved, Wish, resolve

__all__ = [
    "SHANGHAI",
    "DayInfo",
    "DayKind",
    "Granularity",
    "HoursError",
    "Match",
    "MatchProblem",
    "Period",
    "Problem",
    "Schedule",
    "Slot",
    "Unresolved",
    "Wish",
    "WorkCalendar",
    "default_calendar",
    "describe_hours",
    "format_hours",
    "free_slots",
    "match",
    "nearest_free",
    "offer_nearest",
    "parse_hours",
    "reminder_cutoff",
    "reminder_text",
    "resolve",
    "texts",
]

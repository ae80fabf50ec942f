"""When booking reminders are due: on the working day before the consultation.

From `send_at` (09:00) on a working day, the reminders of every booking up to the end of the
next working day are due (bookings on the days between fall on closed days and do not exist).
Bookings whose reminder day was missed (made late, or the scheduler was down) are caught up
the same way, as long as the consultation has not started. Nothing is due on closed days.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from domain.booking.calendar import WorkCalendar
from domain.booking.texts import texts
from domain.booking.when import SHANGHAI

SEND_AT = time(9, 0)


def reminder_cutoff(now: datetime, calendar: WorkCalendar,
                    send_at: time = SEND_AT) -> datetime | None:
    """Bookings starting after `now` and before the returned instant are due; None: none."""
    local = now.astimezone(SHANGHAI)
    today = local.date()
    if not calendar.is_working_day(today) or local.time() < send_at:
        return None
    last = calendar.next_working_day(today)
    return datetime.combine(last + timedelta(days=1), time(), SHANGHAI)


def reminder_text(*, start: datetime, name: str, address: str, code: str) -> str:
    """The Chinese reminder message."""
    return texts().get("reminder", when=texts().slot(start.astimezone(SHANGHAI)), name=name,
                       address=address, code=code)

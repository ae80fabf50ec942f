"""Booking use cases for the action server: offer slots, book, check, cancel, move.

Each call opens its own transaction (`sessions.begin()`), so the Rasa actions stay thin:

    service = BookingService(sessions)
    wish = domain.booking.resolve(text, now)            # or Unresolved → ask its question
    match = await service.offer("CP-WJ-HT", wish)      # match.slot, or match.message/choices
    result = await service.book("CP-WJ-HT", slot.start, phone=..., channel=..., external_id=...)

Look-ups by code need the last 4 digits of the phone, with the failed-try limit of
`casedb.lookups` (shared with the legal aid status look-up).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.lookups import (
    conversation_key,
    locked,
    phone_matches,
    reference_key,
)
from casedb.models import Booking, BookingStatus, ContactPoint, utcnow
from casedb.references import find_reference
from casedb.repositories import (
    BookingRepository,
    ContactPointRepository,
    VerificationFailureRepository,
)
from domain.booking.calendar import WorkCalendar, default_calendar
from domain.booking.slots import Match, MatchProblem, Period, Schedule, match, offer_nearest
from domain.booking.texts import texts
from domain.booking.when import HORIZON_DAYS, SHANGHAI, Wish


def schedule_of(point: ContactPoint) -> Schedule:
    periods = tuple(Period(h.weekday, h.opens, h.closes) for h in point.hours)
    return Schedule(periods, point.slot_minutes, point.capacity)


class LookupStatus(enum.StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # no such code, or the phone digits do not match (not told apart)
    LOCKED = "locked"  # too many failed tries: refuse, suggest calling the contact point
    CANCELLED = "cancelled"  # found, but already cancelled (check shows it; move refuses)


@dataclass(frozen=True)
class Lookup:
    status: LookupStatus
    booking: Booking | None = None
    point: ContactPoint | None = None


@dataclass(frozen=True)
class BookResult:
    booking: Booking | None  # None: not booked, see `match` (full, closed, past) and offer it
    match: Match | None = None


class BookingService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 calendar: WorkCalendar | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 horizon_days: int = HORIZON_DAYS) -> None:
        self.sessions = sessions
        self.calendar = calendar or default_calendar()
        self.clock = clock
        self.horizon_days = horizon_days

    async def contact_points(self, *, district: str | None = None,
                             topic: str | None = None) -> list[ContactPoint]:
        async with self.sessions.begin() as session:
            return await ContactPointRepository(session).list(district=district, topic=topic)

    async def _point_and_taken(self, code: str) -> tuple[ContactPoint, dict[datetime, int]]:
        now = self.clock()
        async with self.sessions.begin() as session:
            point = await ContactPointRepository(session).get(code)
            if point is None:
                raise KeyError(f"no bookable contact point {code!r}")
            taken = await BookingRepository(session).taken(
                code, now - timedelta(days=1), now + timedelta(days=self.horizon_days + 2))
        return point, taken

    async def offer(self, code: str, wish: Wish) -> Match:
        """The free slot matching the wish, or a Chinese explanation with the nearest three."""
        point, taken = await self._point_and_taken(code)
        return match(wish, schedule_of(point), self.calendar, taken, self.clock(),
                     horizon_days=self.horizon_days)

    async def nearest(self, code: str, anchor: datetime, reason: str = "") -> Match:
        """The nearest three free slots to `anchor` (after an `Unresolved` with an anchor)."""
        point, taken = await self._point_and_taken(code)
        return offer_nearest(schedule_of(point), self.calendar, taken, anchor, self.clock(),
                             MatchProblem.NONE_IN_WINDOW, reason,
                             horizon_days=self.horizon_days)

    async def book(self, code: str, slot_start: datetime, *, phone: str, channel: str,
                   external_id: str, topic: str | None = None) -> BookResult:
        """Book one place; a full (or invalid) slot gives `BookResult(None, match)`."""
        now = self.clock()
        point, taken = await self._point_and_taken(code)
        schedule = schedule_of(point)
        start = slot_start.astimezone(SHANGHAI)
        if not self._is_slot(schedule, start, now):
            return BookResult(None, self._closed(schedule, taken, start, now))
        async with self.sessions.begin() as session:
            booking = await BookingRepository(session).book(
                contact_point_code=code, slot_start=slot_start, capacity=point.capacity,
                phone=phone, channel=channel, external_id=external_id, topic=topic)
        if booking is not None:
            return BookResult(booking)
        _, taken = await self._point_and_taken(code)
        reason = texts().get("slots.full", when=texts().slot(start))
        return BookResult(None, offer_nearest(schedule, self.calendar, taken, start, now,
                                              MatchProblem.FULL, reason,
                                              horizon_days=self.horizon_days))

    def _is_slot(self, schedule: Schedule, start: datetime, now: datetime) -> bool:
        return start > now and start in set(schedule.starts_on(start.date(), self.calendar))

    def _closed(self, schedule: Schedule, taken: dict[datetime, int], start: datetime,
                now: datetime) -> Match:
        reason = texts().get("slots.outside_hours", when=texts().slot(start),
                             hours=schedule.describe())
        return offer_nearest(schedule, self.calendar, taken, start, now,
                             MatchProblem.OUTSIDE_HOURS, reason,
                             horizon_days=self.horizon_days)

    async def _verify(self, session: AsyncSession, code_text: str, last4: str, channel: str,
                      external_id: str) -> Lookup:
        now = self.clock()
        failures = VerificationFailureRepository(session)
        code = find_reference(code_text, "YY") or code_text.strip().upper()
        keys = (conversation_key(channel, external_id), reference_key(code))
        if await locked(failures, keys, now):
            return Lookup(LookupStatus.LOCKED)
        booking = await BookingRepository(session).get(code)
        if booking is None or not phone_matches(booking.phone, last4):
            await failures.record(*keys, at=now)
            return Lookup(LookupStatus.NOT_FOUND)
        point = await ContactPointRepository(session).get(booking.contact_point_code)
        if booking.status is BookingStatus.CANCELLED:
            return Lookup(LookupStatus.CANCELLED, booking, point)
        return Lookup(LookupStatus.OK, booking, point)

    async def check(self, code: str, last4: str, *, channel: str, external_id: str) -> Lookup:
        async with self.sessions.begin() as session:
            return await self._verify(session, code, last4, channel, external_id)

    async def cancel(self, code: str, last4: str, *, channel: str,
                     external_id: str) -> Lookup:
        """Cancel (frees the place); a second cancel answers CANCELLED."""
        async with self.sessions.begin() as session:
            found = await self._verify(session, code, last4, channel, external_id)
            if found.status is LookupStatus.OK and found.booking is not None:
                await BookingRepository(session).cancel(found.booking, at=self.clock())
            return found

    async def move(self, code: str, last4: str, new_start: datetime, *, channel: str,
                   external_id: str) -> tuple[Lookup, BookResult | None]:
        """Move to `new_start` at the same contact point; the BookResult says whether it
        worked (a full or invalid slot comes with the nearest free ones, as for `book`)."""
        now = self.clock()
        async with self.sessions.begin() as session:
            found = await self._verify(session, code, last4, channel, external_id)
        if found.status is not LookupStatus.OK or found.booking is None or found.point is None:
            return found, None
        booking, point = found.booking, found.point
        schedule = schedule_of(point)
        start = new_start.astimezone(SHANGHAI)
        if not self._is_slot(schedule, start, now):
            _, taken = await self._point_and_taken(point.organisation.code)
            return found, BookResult(None, self._closed(schedule, taken, start, now))
        async with self.sessions.begin() as session:
            fresh = await BookingRepository(session).get(booking.code)
            assert fresh is not None
            moved = await BookingRepository(session).move(fresh, new_start, point.capacity)
        if moved:
            return found, BookResult(fresh)
        _, taken = await self._point_and_taken(point.organisation.code)
        reason = texts().get("slots.full", when=texts().slot(start))
        return found, BookResult(None, offer_nearest(schedule, self.calendar, taken, start, now,
                                                     MatchProblem.FULL, reason,
                                                     horizon_days=self.horizon_days))

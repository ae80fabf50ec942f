"""Booking reminders: on the working day before a consultation, once per booking.

Any number of gateway instances may run `ReminderScheduler` against one database. A run claims
due reminders atomically (`BookingRepository.claim_reminders`: one UPDATE … RETURNING, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL) and commits the claim before sending, so two instances
never send the same reminder. After a successful send the booking is marked `reminder_sent_at`;
a failed send gives the claim back for the next run; a claim left by an instance that died
mid-send is taken again after `lease`. Cancelled bookings are never claimed.

Not wired into the app here: the caller starts `run_forever()` as a background task and passes
`send`, which delivers `ReminderNotice.text` to `channel`/`external_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb import retention
from casedb.models import Booking, Organisation, utcnow
from casedb.repositories import BookingRepository
from domain.booking.calendar import WorkCalendar, default_calendar
from domain.booking.reminders import SEND_AT, reminder_cutoff, reminder_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderNotice:
    booking_id: int
    code: str
    channel: str
    external_id: str
    contact_point_code: str
    slot_start: datetime  # UTC
    text: str  # Chinese, ready to send


SendReminder = Callable[[ReminderNotice], Awaitable[None]]


class ReminderScheduler:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], send: SendReminder, *,
                 calendar: WorkCalendar | None = None,
                 clock: Callable[[], datetime] = utcnow, interval_s: float = 60.0,
                 batch: int = 50, lease: timedelta = timedelta(minutes=10),
                 send_at: time = SEND_AT) -> None:
        self.sessions = sessions
        self.send = send
        self.calendar = calendar or default_calendar()
        self.clock = clock
        self.interval_s = interval_s
        self.batch = batch
        self.lease = lease
        self.send_at = send_at

    async def run_once(self) -> int:
        """Claim and send every due reminder; returns how many were sent."""
        sent = 0
        while True:
            now = self.clock()
            until = reminder_cutoff(now, self.calendar, self.send_at)
            if until is None:
                return sent
            async with self.sessions.begin() as session:
                claimed = await BookingRepository(session).claim_reminders(
                    until=until, now=now, lease=self.lease, limit=self.batch)
                notices = await self._notices(session, claimed)
            for notice in notices:
                sent += await self._deliver(notice)
            if len(notices) < self.batch:
                return sent

    async def _notices(self, session: AsyncSession, claimed: list[Booking]
                       ) -> list[ReminderNotice]:
        codes = {b.contact_point_code for b in claimed}
        places: dict[str, Organisation] = {}
        if codes:
            rows = await session.execute(select(Organisation).where(Organisation.code.in_(codes)))
            places = {o.code: o for o in rows.scalars()}
        notices = []
        for booking in claimed:
            place = places.get(booking.contact_point_code)
            notices.append(ReminderNotice(
                booking_id=booking.id, code=booking.code, channel=booking.channel,
                external_id=booking.external_id, contact_point_code=booking.contact_point_code,
                slot_start=booking.slot_start,
                text=reminder_text(start=booking.slot_start,
                                   name=place.name if place else booking.contact_point_code,
                                   address=place.address if place else "", code=booking.code)))
        return notices

    async def _deliver(self, notice: ReminderNotice) -> int:
        try:
            await self.send(notice)
        except Exception:
            log.exception("reminder for booking %s not sent; will retry", notice.booking_id)
            async with self.sessions.begin() as session:
                await BookingRepository(session).release_reminder(notice.booking_id)
            return 0
        async with self.sessions.begin() as session:
            await BookingRepository(session).mark_reminded(notice.booking_id, self.clock())
        return 1

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Run every `interval_s` until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("reminder run failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval_s)


async def run_retention_forever(sessions: async_sessionmaker[AsyncSession], *, days: int,
                                interval_s: float, stop: asyncio.Event) -> None:
    """Delete message logs older than `days` (open cases kept, `casedb.retention`) every
    `interval_s` until `stop` is set. Several gateways may run it: deleting twice is harmless."""
    while not stop.is_set():
        try:
            async with sessions.begin() as session:
                await retention.purge(session, days=days)
        except Exception as exc:  # the database is down: next round
            log.warning("retention run failed: %s: %s", type(exc).__name__, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)

"""Booking reminders: due on the working day before, sent once across scheduler instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from casedb.bookings import BookingService
from casedb.directory import SAMPLE_DIRECTORY, parse_directory
from casedb.engine import create_engine, session_factory
from casedb.repositories import BookingRepository, DirectoryRepository
from domain.booking import SHANGHAI
from gateway.scheduler import ReminderNotice, ReminderScheduler
from tests.conftest import POSTGRES_URL, Database

BOOKED_AT = datetime(2026, 9, 21, 10, 0, tzinfo=SHANGHAI)  # Monday
POINT = "CP-TN-KC"  # sample: mon-fri 09:00-12:00,13:30-17:00, 30 minutes, 3 per slot


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


async def setup_bookings(db: Database) -> dict[str, str]:
    """Bookings on Thu 24 Sep (x4 in two slots, one cancelled), Wed 30 Sep, Thu 8 Oct."""
    organisations, _ = parse_directory(SAMPLE_DIRECTORY)
    async with db.sessions.begin() as session:
        await DirectoryRepository(session).replace_all(organisations)
    svc = BookingService(db.sessions, clock=lambda: BOOKED_AT.astimezone(UTC))
    codes: dict[str, str] = {}
    plan = [("thu1", at(9, 24, 9)), ("thu2", at(9, 24, 9)), ("thu3", at(9, 24, 14)),
            ("thu_cancelled", at(9, 24, 15)), ("wed", at(9, 30, 10)), ("oct8", at(10, 8, 9))]
    for name, start in plan:
        result = await svc.book(POINT, start, phone="13912345678", channel="web",
                                external_id=name)
        assert result.booking is not None, name
        codes[name] = result.booking.code
    cancelled = await svc.cancel(codes["thu_cancelled"], "5678", channel="web",
                                 external_id="thu_cancelled")
    assert cancelled.booking is not None
    return codes


class Outbox:
    def __init__(self, fail: set[str] | None = None) -> None:
        self.sent: list[ReminderNotice] = []
        self.fail = fail or set()

    async def send(self, notice: ReminderNotice) -> None:
        await asyncio.sleep(0.01)  # let the other instance run meanwhile
        if notice.external_id in self.fail:
            raise ConnectionError("platform down")
        self.sent.append(notice)


def scheduler(db_sessions: object, outbox: Outbox, now: datetime) -> ReminderScheduler:
    return ReminderScheduler(db_sessions, outbox.send,  # type: ignore[arg-type]
                             clock=lambda: now.astimezone(UTC), batch=2)


async def test_two_instances_send_each_due_reminder_once(postgres_database: Database) -> None:
    await setup_bookings(postgres_database)
    outbox = Outbox()
    engines = [create_engine(POSTGRES_URL, schema=postgres_database.schema) for _ in range(2)]
    try:
        wednesday = at(9, 23, 9, 5)  # Thursday's reminders are due
        instances = [scheduler(session_factory(e), outbox, wednesday) for e in engines]
        counts = await asyncio.gather(*(s.run_once() for s in instances),
                                      *(s.run_once() for s in instances))
        assert sum(counts) == 3
        assert sorted(n.external_id for n in outbox.sent) == ["thu1", "thu2", "thu3"]
        assert await instances[0].run_once() == 0  # nothing twice
        # Wednesday 30 Sep 09:30: Thursday 8 Oct is the next working day (after the holiday);
        # today's 10:00 booking missed its reminder day (no run on Tuesday) and is caught up
        later = [scheduler(session_factory(e), outbox, at(9, 30, 9, 30)) for e in engines]
        assert sum(await asyncio.gather(*(s.run_once() for s in later))) == 2
        assert sorted(n.external_id for n in outbox.sent[3:]) == ["oct8", "wed"]
    finally:
        for engine in engines:
            await engine.dispose()
    assert "预约提醒" in outbox.sent[0].text and "天宁科创园" in outbox.sent[0].text


async def test_reminders_on_both_databases(database: Database) -> None:
    codes = await setup_bookings(database)
    outbox = Outbox(fail={"thu2"})
    early = scheduler(database.sessions, outbox, at(9, 23, 8, 30))
    assert await early.run_once() == 0  # before 09:00
    weekend = scheduler(database.sessions, outbox, at(9, 26, 10))
    assert await weekend.run_once() == 0  # not a working day
    due = scheduler(database.sessions, outbox, at(9, 23, 9, 5))
    assert await due.run_once() == 2  # thu2's send failed and was given back
    outbox.fail.clear()
    assert await due.run_once() == 1
    assert await due.run_once() == 0
    sent = [n.code for n in outbox.sent]
    assert codes["thu_cancelled"] not in sent and codes["wed"] not in sent
    assert sorted(sent) == sorted([codes["thu1"], codes["thu2"], codes["thu3"]])


async def test_a_stale_claim_is_taken_again(database: Database) -> None:
    await setup_bookings(database)
    now = at(9, 23, 9, 5).astimezone(UTC)
    async with database.sessions.begin() as session:  # an instance claims, then dies
        claimed = await BookingRepository(session).claim_reminders(
            until=at(9, 25, 0), now=now, lease=timedelta(minutes=10))
    assert len(claimed) == 3
    outbox = Outbox()
    soon = scheduler(database.sessions, outbox, at(9, 23, 9, 10))
    assert await soon.run_once() == 0
    after_lease = scheduler(database.sessions, outbox, at(9, 23, 9, 20))
    assert await after_lease.run_once() == 3

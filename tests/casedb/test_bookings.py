"""Bookings on the real databases: capacity, cancel, move, look-up limit, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from casedb.bookings import BookingService, LookupStatus
from casedb.directory import SAMPLE_DIRECTORY, parse_directory
from casedb.engine import create_engine, session_factory
from casedb.lookups import MAX_FAILED_TRIES
from casedb.models import BookingStatus
from casedb.repositories import (
    BookingRepository,
    ContactPointRepository,
    DirectoryRepository,
)
from domain.booking import SHANGHAI, MatchProblem, Wish, resolve
from tests.conftest import POSTGRES_URL, Database

NOW = datetime(2026, 9, 23, 10, 0, tzinfo=SHANGHAI)  # Wednesday
POINT = "CP-WJ-HT"  # sample: mon-fri 09:00-11:30,14:00-17:00, 30 minutes, 2 per slot
SLOT = datetime(2026, 9, 24, 14, 0, tzinfo=SHANGHAI)


async def load_sample(db: Database) -> None:
    organisations, errors = parse_directory(SAMPLE_DIRECTORY)
    assert errors == []
    async with db.sessions.begin() as session:
        await DirectoryRepository(session).replace_all(organisations)


def service(db: Database) -> BookingService:
    return BookingService(db.sessions, clock=lambda: NOW.astimezone(UTC))


async def book(svc: BookingService, start: datetime = SLOT, phone: str = "13912345678",
               who: str = "u1") -> str | None:
    result = await svc.book(POINT, start, phone=phone, channel="web", external_id=who,
                            topic="labour")
    return result.booking.code if result.booking else None


async def test_directory_details_are_stored(database: Database) -> None:
    await load_sample(database)
    async with database.sessions.begin() as session:
        repo = ContactPointRepository(session)
        points = await repo.list()
        assert [p.organisation.code for p in points] == ["CP-TN-KC", "CP-WJ-HT", "CP-XB-ZH"]
        ip_wujin = await repo.list(district="武进区", topic="ip")
        assert [p.organisation.code for p in ip_wujin] == [POINT]
        point = await repo.get(POINT)
        assert point is not None and point.capacity == 2 and point.park
        assert len(point.hours) == 10
    await load_sample(database)  # replacing the directory replaces the details
    async with database.sessions.begin() as session:
        assert len(await ContactPointRepository(session).list()) == 3


async def test_capacity_cancel_frees_and_move(database: Database) -> None:
    await load_sample(database)
    svc = service(database)
    first, second = await book(svc), await book(svc, who="u2")
    assert first and second and first.startswith("YY-") and len(first) == 11
    full = await svc.book(POINT, SLOT, phone="13900000000", channel="web", external_id="u3")
    assert full.booking is None and full.match is not None
    assert full.match.problem is MatchProblem.FULL and len(full.match.choices) == 3
    assert SLOT not in [c.start for c in full.match.choices]

    cancelled = await svc.cancel(first, "5678", channel="web", external_id="u1")
    assert cancelled.status is LookupStatus.OK
    again = await svc.cancel(first, "5678", channel="web", external_id="u1")
    assert again.status is LookupStatus.CANCELLED
    assert await book(svc, who="u3")  # the freed place

    later = datetime(2026, 9, 24, 15, 0, tzinfo=SHANGHAI)
    found, moved = await svc.move(second, "5678", later, channel="web", external_id="u2")
    assert found.status is LookupStatus.OK and moved and moved.booking
    assert moved.booking.slot_start == later.astimezone(UTC)
    checked = await svc.check(second.lower().replace("-", ""), "5678", channel="web",
                              external_id="u2")
    assert checked.status is LookupStatus.OK and checked.booking is not None
    assert checked.booking.status is BookingStatus.BOOKED
    assert checked.booking.slot_start == later.astimezone(UTC)
    assert await book(svc, who="u4")  # the moved booking's old place is free


async def test_only_real_future_slots_can_be_booked(database: Database) -> None:
    await load_sample(database)
    svc = service(database)
    for start in (datetime(2026, 9, 24, 14, 10, tzinfo=SHANGHAI),  # off the grid
                  datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI),  # National Day
                  datetime(2026, 9, 23, 9, 0, tzinfo=SHANGHAI)):  # past
        result = await svc.book(POINT, start, phone="13912345678", channel="web",
                                external_id="u")
        assert result.booking is None and result.match and len(result.match.choices) == 3


async def test_offer_uses_the_database_counts(database: Database) -> None:
    await load_sample(database)
    svc = service(database)
    wish = resolve("明天下午两点", NOW)
    assert isinstance(wish, Wish)
    assert (await svc.offer(POINT, wish)).slot is not None
    await book(svc)
    await book(svc, who="u2")
    offer = await svc.offer(POINT, wish)
    assert offer.slot is None and offer.problem is MatchProblem.FULL


async def test_failed_look_ups_lock_after_five(database: Database) -> None:
    await load_sample(database)
    svc = service(database)
    code = await book(svc)
    assert code
    for _ in range(MAX_FAILED_TRIES):
        wrong = await svc.check(code, "0000", channel="web", external_id="attacker")
        assert wrong.status is LookupStatus.NOT_FOUND
    locked = await svc.check(code, "5678", channel="web", external_id="attacker")
    assert locked.status is LookupStatus.LOCKED
    # the code itself is locked too, from any conversation
    other = await svc.check(code, "5678", channel="web", external_id="owner")
    assert other.status is LookupStatus.LOCKED
    fresh = await svc.check("YY-22222222", "5678", channel="web", external_id="owner")
    assert fresh.status is LookupStatus.NOT_FOUND


async def test_concurrent_attempts_on_sqlite_never_overbook(sqlite_database: Database) -> None:
    await load_sample(sqlite_database)
    svc = service(sqlite_database)
    codes = await asyncio.gather(*(book(svc, who=f"u{i}") for i in range(10)))
    assert sum(c is not None for c in codes) == 2


async def test_fifty_simultaneous_attempts_on_the_last_place(postgres_database: Database) -> None:
    await load_sample(postgres_database)
    svc = service(postgres_database)
    assert await book(svc, who="early")  # one of the two places is gone
    engines = [create_engine(POSTGRES_URL, schema=postgres_database.schema) for _ in range(5)]
    try:
        services = [BookingService(session_factory(engines[i % 5]),
                                   clock=lambda: NOW.astimezone(UTC)) for i in range(50)]
        results = await asyncio.gather(*(
            s.book(POINT, SLOT, phone=f"1391234{i:04d}", channel="web", external_id=f"p{i}")
            for i, s in enumerate(services)))
    finally:
        for engine in engines:
            await engine.dispose()
    booked = [r for r in results if r.booking is not None]
    refused = [r for r in results if r.booking is None]
    assert len(booked) == 1 and len(refused) == 49
    for r in refused:
        assert r.match is not None and r.match.problem is MatchProblem.FULL
        assert "约满" in r.match.message and len(r.match.choices) == 3
    async with postgres_database.sessions.begin() as session:
        taken = await BookingRepository(session).taken(POINT, SLOT, SLOT.replace(hour=15))
    assert taken == {SLOT.astimezone(UTC): 2}


async def test_erasing_a_conversation_deletes_its_bookings(database: Database) -> None:
    from casedb.repositories import PersonalDataRepository

    await load_sample(database)
    svc = service(database)
    mine, theirs = await book(svc, who="me"), await book(svc, who="them")
    assert mine and theirs
    async with database.sessions.begin() as session:
        assert await PersonalDataRepository(session).erase_conversation("web", "me") == 1
    lookup = await svc.check(mine, "5678", channel="web", external_id="me")
    assert lookup.booking is None
    still = await svc.check(theirs, "5678", channel="web", external_id="them")
    assert still.booking is not None

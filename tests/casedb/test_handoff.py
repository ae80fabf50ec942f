"""Handoff repositories on SQLite and PostgreSQL: tickets, atomic claims, lock-out, audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from casedb.handoff import (
    MAX_FAILED_LOGINS,
    Actor,
    AuditRepository,
    StaffRepository,
    TicketRepository,
    is_locked,
)
from casedb.models import AuditLog, HandoffTicket, StaffRole, TicketStatus
from casedb.repositories import ConversationRepository, PersonalDataRepository
from tests.conftest import Database


async def _ticket(db: Database, external_id: str = "u1", team: str = "legal_aid") -> int:
    async with db.sessions.begin() as session:
        conversation = await ConversationRepository(session).get_or_create("web", external_id)
        ticket = await TicketRepository(session).create(
            conversation, team=team, reason="request_human", case_card={"slots": {"a": 1}})
        return ticket.id


async def _staff(db: Database, count: int) -> list[int]:
    async with db.sessions.begin() as session:
        repo = StaffRepository(session)
        return [(await repo.add(f"s{i}", "hash", StaffRole.STAFF, "legal_aid")).id
                for i in range(count)]


async def test_exactly_one_of_20_concurrent_claims_wins_on_postgresql(
        postgres_database: Database) -> None:
    ticket_id = await _ticket(postgres_database)
    staff = await _staff(postgres_database, 20)

    async def claim(staff_id: int) -> bool:
        async with postgres_database.sessions.begin() as session:
            return await TicketRepository(session).claim(ticket_id, staff_id)

    results = await asyncio.gather(*(claim(s) for s in staff))
    assert sum(results) == 1
    winner = staff[results.index(True)]
    async with postgres_database.sessions() as session:
        ticket = await session.get(HandoffTicket, ticket_id)
    assert ticket is not None
    assert (ticket.status, ticket.assigned_to) == (TicketStatus.WITH_STAFF, winner)
    assert ticket.claimed_at is not None


async def test_claim_only_from_the_queue(database: Database) -> None:
    ticket_id = await _ticket(database)
    [first, second] = await _staff(database, 2)
    async with database.sessions.begin() as session:
        tickets = TicketRepository(session)
        assert await tickets.claim(ticket_id, first)
        assert not await tickets.claim(ticket_id, second)
        assert await tickets.finish(ticket_id, TicketStatus.CLOSED)
        assert not await tickets.finish(ticket_id, TicketStatus.CANCELLED)  # already closed


async def test_queue_positions_per_team_and_average_wait(database: Database) -> None:
    a = await _ticket(database, "u1")
    b = await _ticket(database, "u2")
    other_team = await _ticket(database, "u3", team="notary")
    [staff] = await _staff(database, 1)
    async with database.sessions.begin() as session:
        tickets = TicketRepository(session)
        for ticket_id, expected in ((a, 1), (b, 2), (other_team, 1)):
            ticket = await tickets.get(ticket_id)
            assert ticket is not None and await tickets.position(ticket) == expected
        assert await tickets.average_wait("legal_aid") is None
        assert await tickets.claim(a, staff)
        ticket_b = await tickets.get(b)
        assert ticket_b is not None and await tickets.position(ticket_b) == 1
        wait = await tickets.average_wait("legal_aid")
        assert wait is not None and timedelta(0) <= wait < timedelta(minutes=1)
        assert [t.id for t in await tickets.queue(("legal_aid",))] == [b]
        assert [t.id for t in await tickets.queue()] == [b, other_team]


async def test_expired_queued_tickets_become_callbacks_once(database: Database) -> None:
    ticket_id = await _ticket(database)
    later = datetime.now(UTC) + timedelta(hours=1)
    async with database.sessions.begin() as session:
        assert await TicketRepository(session).expire_queued(datetime.now(UTC) -
                                                             timedelta(hours=1)) == []
        expired = await TicketRepository(session).expire_queued(later)
        assert [(t.id, t.status) for t in expired] == [(ticket_id, TicketStatus.CALLBACK)]
    async with database.sessions.begin() as session:
        assert await TicketRepository(session).expire_queued(later) == []


async def test_five_failures_lock_an_account_for_a_while(database: Database) -> None:
    [staff_id] = await _staff(database, 1)
    now = datetime.now(UTC)
    async with database.sessions.begin() as session:
        repo = StaffRepository(session)
        user = await repo.get(staff_id)
        assert user is not None
        for _ in range(MAX_FAILED_LOGINS - 1):
            await repo.login_failed(user, now)
        assert not is_locked(user, now)
        await repo.login_failed(user, now)
        assert is_locked(user, now)
        assert not is_locked(user, now + timedelta(minutes=16))


async def test_the_audit_log_survives_erasing_the_conversation(database: Database) -> None:
    ticket_id = await _ticket(database)
    async with database.sessions.begin() as session:
        ticket = await TicketRepository(session).get(ticket_id)
        assert ticket is not None
        await AuditRepository(session).record(Actor(1, "wang"), "claim", ticket=ticket)
    async with database.sessions.begin() as session:
        await PersonalDataRepository(session).erase_conversation("web", "u1")
    async with database.sessions() as session:
        assert await session.get(HandoffTicket, ticket_id) is None  # erased with the chat
        rows = list((await session.execute(select(AuditLog))).scalars())
    assert [(r.staff_name, r.action, r.ticket_id) for r in rows] == [("wang", "claim", ticket_id)]

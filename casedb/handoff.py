"""Repositories of the human handoff: tickets, staff users, private notes and the audit log.

Callers own the transaction, as in `casedb.repositories`. A claim is one conditional UPDATE
(`... WHERE status = 'queued'`): however many staff click at once, exactly one row changes and
everybody else is told the ticket is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casedb.models import (
    AuditLog,
    Conversation,
    HandoffTicket,
    StaffRole,
    StaffUser,
    TicketNote,
    TicketStatus,
    utcnow,
)

TEAMS = ("legal_aid", "notary", "enterprise", "complaints", "mediation")
OPEN_STATUSES = (TicketStatus.QUEUED, TicketStatus.WITH_STAFF)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, conversation: Conversation, *, team: str, reason: str,
                     case_card: dict[str, Any] | None = None, kind: str = "handoff",
                     status: TicketStatus = TicketStatus.QUEUED) -> HandoffTicket:
        ticket = HandoffTicket(
            conversation_id=conversation.id, channel=conversation.channel,
            external_id=conversation.external_id, kind=kind, team=team, reason=reason,
            status=status, case_card=case_card or {}, created_at=utcnow())
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    async def get(self, ticket_id: int) -> HandoffTicket | None:
        return await self.session.get(HandoffTicket, ticket_id)

    async def open_for(self, conversation_id: int) -> HandoffTicket | None:
        """The conversation's queued or claimed ticket, if any (the newest)."""
        stmt = (select(HandoffTicket)
                .where(HandoffTicket.conversation_id == conversation_id,
                       HandoffTicket.status.in_(OPEN_STATUSES))
                .order_by(HandoffTicket.id.desc()).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def claim(self, ticket_id: int, staff_id: int) -> bool:
        """Take a queued ticket; False when someone else was first (or it left the queue)."""
        result = await self.session.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, HandoffTicket.status == TicketStatus.QUEUED)
            .values(status=TicketStatus.WITH_STAFF, assigned_to=staff_id, claimed_at=utcnow())
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def finish(self, ticket_id: int, status: TicketStatus,
                     only_from: tuple[TicketStatus, ...] = OPEN_STATUSES) -> bool:
        """Move an open ticket to `status` (closed, cancelled, callback); False if not open."""
        result = await self.session.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, HandoffTicket.status.in_(only_from))
            .values(status=status, closed_at=utcnow())
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def transfer(self, ticket_id: int, *, team: str | None = None,
                       staff_id: int | None = None) -> bool:
        """Hand a claimed ticket to another team (back to its queue) or to one person."""
        values: dict[str, Any]
        if staff_id is not None:
            values = {"assigned_to": staff_id, "status": TicketStatus.WITH_STAFF,
                      "claimed_at": utcnow()}
            if team is not None:
                values["team"] = team
        elif team is not None:
            values = {"team": team, "assigned_to": None, "status": TicketStatus.QUEUED,
                      "claimed_at": None}
        else:
            raise ValueError("transfer needs a team or a person")
        result = await self.session.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, HandoffTicket.status.in_(OPEN_STATUSES))
            .values(**values).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def set_rating(self, ticket_id: int, rating: int) -> None:
        await self.session.execute(update(HandoffTicket).where(HandoffTicket.id == ticket_id)
                                   .values(rating=rating))

    async def queue(self, teams: tuple[str, ...] | None = None) -> list[HandoffTicket]:
        """Queued tickets, oldest first (all teams when `teams` is None)."""
        stmt = select(HandoffTicket).where(HandoffTicket.status == TicketStatus.QUEUED)
        if teams is not None:
            stmt = stmt.where(HandoffTicket.team.in_(teams))
        stmt = stmt.order_by(HandoffTicket.created_at, HandoffTicket.id)
        return list((await self.session.execute(stmt)).scalars())

    async def assigned_to(self, staff_id: int) -> list[HandoffTicket]:
        stmt = (select(HandoffTicket)
                .where(HandoffTicket.assigned_to == staff_id,
                       HandoffTicket.status == TicketStatus.WITH_STAFF)
                .order_by(HandoffTicket.claimed_at))
        return list((await self.session.execute(stmt)).scalars())

    async def callbacks(self, teams: tuple[str, ...] | None = None) -> list[HandoffTicket]:
        stmt = select(HandoffTicket).where(HandoffTicket.status == TicketStatus.CALLBACK)
        if teams is not None:
            stmt = stmt.where(HandoffTicket.team.in_(teams))
        stmt = stmt.order_by(HandoffTicket.created_at)
        return list((await self.session.execute(stmt)).scalars())

    async def position(self, ticket: HandoffTicket) -> int:
        """1 for the next ticket its team will take."""
        stmt = select(func.count()).select_from(HandoffTicket).where(
            HandoffTicket.status == TicketStatus.QUEUED, HandoffTicket.team == ticket.team,
            HandoffTicket.id <= ticket.id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def average_wait(self, team: str, last: int = 20) -> timedelta | None:
        """Mean time from queueing to claim over the team's last `last` claims."""
        stmt = (select(HandoffTicket.created_at, HandoffTicket.claimed_at)
                .where(HandoffTicket.team == team, HandoffTicket.claimed_at.is_not(None))
                .order_by(HandoffTicket.claimed_at.desc()).limit(last))
        rows = (await self.session.execute(stmt)).all()
        waits = [claimed - created for created, claimed in rows if claimed is not None]
        if not waits:
            return None
        return sum(waits, timedelta()) / len(waits)

    async def expire_queued(self, older_than: datetime) -> list[HandoffTicket]:
        """Turn queued tickets nobody claimed since `older_than` into callback requests.

        One conditional UPDATE per ticket, so with several gateways each ticket expires once.
        """
        stmt = select(HandoffTicket.id).where(HandoffTicket.status == TicketStatus.QUEUED,
                                              HandoffTicket.created_at < older_than)
        expired: list[HandoffTicket] = []
        for ticket_id in list((await self.session.execute(stmt)).scalars()):
            if await self.finish(ticket_id, TicketStatus.CALLBACK,
                                 only_from=(TicketStatus.QUEUED,)):
                ticket = await self.get(ticket_id)
                if ticket is not None:
                    await self.session.refresh(ticket)
                    expired.append(ticket)
        return expired


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, username: str, password_hash: str, role: StaffRole,
                  team: str) -> StaffUser:
        user = StaffUser(username=username, password_hash=password_hash, role=role, team=team,
                         active=True, failed_logins=0, created_at=utcnow())
        self.session.add(user)
        await self.session.flush()
        return user

    async def by_name(self, username: str) -> StaffUser | None:
        stmt = select(StaffUser).where(StaffUser.username == username)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get(self, staff_id: int) -> StaffUser | None:
        return await self.session.get(StaffUser, staff_id)

    async def all(self) -> list[StaffUser]:
        stmt = select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.username)
        return list((await self.session.execute(stmt)).scalars())

    async def login_failed(self, user: StaffUser, now: datetime | None = None) -> None:
        """Count a failed login; the fifth in a row locks the account for 15 minutes."""
        now = now or utcnow()
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        await self.session.flush()

    async def login_succeeded(self, user: StaffUser) -> None:
        user.failed_logins = 0
        user.locked_until = None
        await self.session.flush()


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


class NoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, ticket_id: int, staff_id: int, text: str) -> TicketNote:
        note = TicketNote(ticket_id=ticket_id, staff_id=staff_id, text=text, created_at=utcnow())
        self.session.add(note)
        await self.session.flush()
        return note

    async def for_ticket(self, ticket_id: int) -> list[TicketNote]:
        stmt = select(TicketNote).where(TicketNote.ticket_id == ticket_id).order_by(TicketNote.id)
        return list((await self.session.execute(stmt)).scalars())


@dataclass(frozen=True)
class Actor:
    """Who did something: a member of staff (or the system, staff_id None)."""

    staff_id: int | None
    name: str


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, actor: Actor, action: str, *, ticket: HandoffTicket | None = None,
                     conversation_id: int | None = None,
                     detail: dict[str, Any] | None = None) -> AuditLog:
        row = AuditLog(
            staff_id=actor.staff_id, staff_name=actor.name, action=action,
            conversation_id=ticket.conversation_id if ticket is not None else conversation_id,
            ticket_id=ticket.id if ticket is not None else None, detail=detail,
            created_at=utcnow())
        self.session.add(row)
        await self.session.flush()
        return row

    async def recent(self, limit: int = 100) -> list[AuditLog]:
        stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

"""Repositories: thin query functions over one aggregate each, taking a session.

Callers own the transaction (`async with factory.begin() as session:`); repositories flush but
never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from casedb.models import (
    Booking,
    BookingStatus,
    ChannelCursor,
    ContactPoint,
    Conversation,
    Direction,
    LegalAidApplication,
    MessageLog,
    Organisation,
    OrganisationKind,
    VerificationFailure,
    utcnow,
)
from casedb.outbox import OutboxRepository
from casedb.references import new_reference


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, external_id: str) -> Conversation | None:
        stmt = select(Conversation).where(
            Conversation.channel == channel, Conversation.external_id == external_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_or_create(self, channel: str, external_id: str) -> Conversation:
        found = await self.get(channel, external_id)
        if found is not None:
            return found
        try:
            async with self.session.begin_nested():
                conversation = Conversation(channel=channel, external_id=external_id)
                self.session.add(conversation)
            return conversation
        except IntegrityError:  # another request created it between our select and insert
            found = await self.get(channel, external_id)
            assert found is not None
            return found


class MessageLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        conversation: Conversation,
        direction: Direction,
        *,
        sender_id: str,
        text: str | None,
        payload: dict[str, Any] | None = None,
        platform_message_id: str | None = None,
        at: datetime | None = None,
    ) -> MessageLog | None:
        """Log one message. Returns None when this platform message id was logged before."""
        row = MessageLog(
            conversation_id=conversation.id,
            channel=conversation.channel,
            direction=direction,
            sender_id=sender_id,
            platform_message_id=platform_message_id,
            text=text,
            payload=payload,
            created_at=at or utcnow(),
        )
        if platform_message_id is None:  # nothing to collide with: no savepoint round trip
            self.session.add(row)
        else:
            try:
                async with self.session.begin_nested():
                    self.session.add(row)
            except IntegrityError:
                return None
        conversation.last_message_at = row.created_at
        return row

    async def for_conversation(self, conversation_id: int, limit: int = 200) -> list[MessageLog]:
        stmt = (select(MessageLog).where(MessageLog.conversation_id == conversation_id)
                .order_by(MessageLog.created_at, MessageLog.id).limit(limit))
        return list((await self.session.execute(stmt)).scalars())


class DirectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts_by_kind(self) -> dict[OrganisationKind, int]:
        stmt = select(Organisation.kind, func.count()).group_by(Organisation.kind)
        counts = {kind: 0 for kind in OrganisationKind}
        for kind, count in (await self.session.execute(stmt)).all():
            counts[kind] = count
        return counts

    async def replace_all(self, organisations: Iterable[Organisation]) -> int:
        """Replace the whole directory in the caller's transaction (all or nothing)."""
        await self.session.execute(delete(Organisation))
        rows = list(organisations)
        self.session.add_all(rows)
        await self.session.flush()
        return len(rows)

    async def by_kind(self, kind: OrganisationKind) -> list[Organisation]:
        stmt = select(Organisation).where(Organisation.kind == kind).order_by(Organisation.code)
        return list((await self.session.execute(stmt)).scalars())


class LegalAidApplicationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **fields: Any) -> LegalAidApplication:
        """Insert with a fresh `FY-` reference (a collision, however unlikely, draws again)."""
        for _ in range(5):
            application = LegalAidApplication(reference=new_reference("FY"), **fields)
            try:
                async with self.session.begin_nested():
                    self.session.add(application)
                return application
            except IntegrityError:
                continue
        raise RuntimeError("could not draw a unique reference")

    async def get(self, reference: str) -> LegalAidApplication | None:
        stmt = select(LegalAidApplication).where(LegalAidApplication.reference == reference)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class VerificationFailureRepository:
    """Failed look-ups per key (a conversation, a reference) for the rate limit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, *keys: str, at: datetime | None = None) -> None:
        self.session.add_all(VerificationFailure(key=key, created_at=at or utcnow())
                             for key in keys)
        await self.session.flush()

    async def count_since(self, key: str, since: datetime) -> int:
        stmt = select(func.count()).select_from(VerificationFailure).where(
            VerificationFailure.key == key, VerificationFailure.created_at >= since)
        return int((await self.session.execute(stmt)).scalar_one())


class PersonalDataRepository:
    """Erasure on request (个人信息保护法 Art. 47): everything held about one conversation."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def erase_conversation(self, channel: str, external_id: str) -> int:
        """Delete the conversation, its message log, its pre-applications and its bookings;
        returns the number of rows deleted."""
        deleted = await BookingRepository(self.session).erase_conversation(channel, external_id)
        result = await self.session.execute(delete(LegalAidApplication).where(
            LegalAidApplication.channel == channel,
            LegalAidApplication.external_id == external_id))
        deleted += int(getattr(result, "rowcount", 0) or 0)
        conversation = await ConversationRepository(self.session).get(channel, external_id)
        if conversation is not None:
            result = await self.session.execute(
                delete(MessageLog).where(MessageLog.conversation_id == conversation.id))
            deleted += int(getattr(result, "rowcount", 0) or 0)
            # outbound messages still queued or failed hold the same texts (issue 10)
            deleted += await OutboxRepository(self.session).erase_conversation(conversation.id)
            await self.session.execute(
                delete(Conversation).where(Conversation.id == conversation.id))
            deleted += 1
        return deleted




class ChannelCursorRepository:
    """The read position of pull-based channels (see `ChannelCursor`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, source: str) -> str | None:
        stmt = select(ChannelCursor.cursor).where(ChannelCursor.channel == channel,
                                                  ChannelCursor.source == source)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set(self, channel: str, source: str, cursor: str) -> None:
        """Insert or move the cursor (a concurrent first insert is resolved by updating)."""
        stmt = select(ChannelCursor).where(ChannelCursor.channel == channel,
                                           ChannelCursor.source == source)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            try:
                async with self.session.begin_nested():
                    self.session.add(ChannelCursor(channel=channel, source=source,
                                                   cursor=cursor))
                return
            except IntegrityError:
                row = (await self.session.execute(stmt)).scalar_one()
        row.cursor = cursor
        row.updated_at = utcnow()
        await self.session.flush()


class ContactPointRepository:
    """Contact points that take bookings (an organisation row plus its `ContactPoint`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, *, district: str | None = None,
                   topic: str | None = None) -> list[ContactPoint]:
        stmt = select(ContactPoint).join(ContactPoint.organisation).order_by(Organisation.code)
        if district is not None:
            stmt = stmt.where(Organisation.district == district)
        points = list((await self.session.execute(stmt)).unique().scalars())
        if topic is not None:
            points = [p for p in points if topic in {t.topic for t in p.topics}]
        return points

    async def get(self, code: str) -> ContactPoint | None:
        stmt = select(ContactPoint).join(ContactPoint.organisation).where(
            Organisation.code == code)
        return (await self.session.execute(stmt)).unique().scalar_one_or_none()


class BookingRepository:
    """Bookings; see `Booking` for how the seat index makes capacity a hard limit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def taken(self, contact_point_code: str, start: datetime,
                    end: datetime) -> dict[datetime, int]:
        """Active bookings per slot start (UTC) in [start, end)."""
        stmt = (select(Booking.slot_start, func.count())
                .where(Booking.contact_point_code == contact_point_code,
                       Booking.seat.is_not(None),
                       Booking.slot_start >= start, Booking.slot_start < end)
                .group_by(Booking.slot_start))
        counts: dict[datetime, int] = {}
        for slot_start, count in (await self.session.execute(stmt)).all():
            counts[slot_start] = int(count)
        return counts

    async def _seats_taken(self, contact_point_code: str, slot_start: datetime) -> set[int]:
        stmt = select(Booking.seat).where(Booking.contact_point_code == contact_point_code,
                                          Booking.slot_start == slot_start,
                                          Booking.seat.is_not(None))
        return {int(s) for s in (await self.session.execute(stmt)).scalars() if s is not None}

    async def _free_seats(self, contact_point_code: str, slot_start: datetime,
                          capacity: int) -> list[int]:
        taken = await self._seats_taken(contact_point_code, slot_start)
        return [seat for seat in range(1, capacity + 1) if seat not in taken]

    async def book(self, *, contact_point_code: str, slot_start: datetime, capacity: int,
                   phone: str, channel: str, external_id: str,
                   topic: str | None = None) -> Booking | None:
        """Take a free seat of the slot; None when the slot is full.

        Each try inserts in a savepoint; a unique violation means another process took that
        seat (or drew the same code) first, so the free seats are read again and the next
        one tried. PostgreSQL makes a competing insert wait for the first one's commit.
        """
        for _ in range(2 * capacity + 5):
            free = await self._free_seats(contact_point_code, slot_start, capacity)
            if not free:
                return None
            booking = Booking(code=new_reference("YY"), contact_point_code=contact_point_code,
                              slot_start=slot_start, seat=free[0], phone=phone,
                              channel=channel, external_id=external_id, topic=topic,
                              status=BookingStatus.BOOKED)
            try:
                async with self.session.begin_nested():
                    self.session.add(booking)
                return booking
            except IntegrityError:
                continue
        raise RuntimeError("could not take a seat (too much contention)")

    async def get(self, code: str) -> Booking | None:
        return (await self.session.execute(
            select(Booking).where(Booking.code == code))).scalar_one_or_none()

    async def for_conversation(self, channel: str, external_id: str, *,
                               active_only: bool = True) -> list[Booking]:
        stmt = select(Booking).where(Booking.channel == channel,
                                     Booking.external_id == external_id)
        if active_only:
            stmt = stmt.where(Booking.status == BookingStatus.BOOKED)
        return list((await self.session.execute(stmt.order_by(Booking.slot_start))).scalars())

    async def cancel(self, booking: Booking, *, at: datetime | None = None) -> None:
        """Cancel and free the seat (idempotent)."""
        booking.status = BookingStatus.CANCELLED
        booking.seat = None
        booking.cancelled_at = booking.cancelled_at or at or utcnow()
        await self.session.flush()

    async def move(self, booking: Booking, slot_start: datetime, capacity: int) -> bool:
        """Move to another slot (same contact point); False when that slot is full.

        The old seat is kept until the new one is taken, in one statement per try; the
        reminder is due again for the new date.
        """
        for _ in range(2 * capacity + 5):
            free = await self._free_seats(booking.contact_point_code, slot_start, capacity)
            if not free:
                return False
            try:
                async with self.session.begin_nested():
                    await self.session.execute(
                        update(Booking).where(Booking.id == booking.id).values(
                            slot_start=slot_start, seat=free[0], reminder_claimed_at=None,
                            reminder_sent_at=None, updated_at=utcnow()))
            except IntegrityError:
                continue
            await self.session.refresh(booking)
            return True
        raise RuntimeError("could not take a seat (too much contention)")

    async def claim_reminders(self, *, until: datetime, now: datetime, lease: timedelta,
                              limit: int = 50) -> list[Booking]:
        """Atomically claim due reminders: active bookings starting in (now, until) with no
        reminder sent and no live claim. Two schedulers never claim the same booking: the
        claim is one UPDATE whose WHERE is re-checked on the locked row (PostgreSQL
        re-evaluates it after a concurrent commit; SQLite runs one writer at a time), and
        PostgreSQL's `FOR UPDATE SKIP LOCKED` keeps instances from queueing on each other.
        A claim older than `lease` (the instance died before sending) can be taken again.
        """
        due = (Booking.status == BookingStatus.BOOKED,
               Booking.reminder_sent_at.is_(None),
               Booking.slot_start > now, Booking.slot_start < until,
               or_(Booking.reminder_claimed_at.is_(None),
                   Booking.reminder_claimed_at < now - lease))
        ids = (select(Booking.id).where(*due).order_by(Booking.slot_start).limit(limit)
               .with_for_update(skip_locked=True))
        stmt = (update(Booking).where(Booking.id.in_(ids.scalar_subquery()), *due)
                .values(reminder_claimed_at=now).returning(Booking.id)
                .execution_options(synchronize_session=False))
        claimed = list((await self.session.execute(stmt)).scalars())
        if not claimed:
            return []
        rows = select(Booking).where(Booking.id.in_(claimed)).order_by(Booking.slot_start)
        rows = rows.execution_options(populate_existing=True)
        return list((await self.session.execute(rows)).scalars())

    async def mark_reminded(self, booking_id: int, at: datetime) -> None:
        await self.session.execute(update(Booking).where(Booking.id == booking_id)
                                   .values(reminder_sent_at=at))

    async def release_reminder(self, booking_id: int) -> None:
        """Give a claim back after a failed send, so the next run tries again."""
        await self.session.execute(update(Booking).where(
            Booking.id == booking_id, Booking.reminder_sent_at.is_(None))
            .values(reminder_claimed_at=None))

    async def erase_conversation(self, channel: str, external_id: str) -> int:
        """Delete every booking of one conversation (personal data erasure)."""
        result = await self.session.execute(delete(Booking).where(
            Booking.channel == channel, Booking.external_id == external_id))
        return int(getattr(result, "rowcount", 0) or 0)

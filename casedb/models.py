"""SQLAlchemy models of the case database.

Times are stored in UTC (timezone-aware); what a user sees is converted to Asia/Shanghai at the
edge. Table names are singular snake case; constraint names follow one naming convention so
Alembic diffs are deterministic.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, MetaData, String, Text, Time
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, backref, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC (SQLite forgets the zone; we put UTC back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class OrganisationKind(enum.StrEnum):
    LEGAL_AID_CENTRE = "legal_aid_centre"
    NOTARY_OFFICE = "notary_office"
    CONTACT_POINT = "contact_point"
    MEDIATION_COMMITTEE = "mediation_committee"
    LAW_FIRM = "law_firm"


class Conversation(Base):
    """One person on one channel: `<channel>:<conversation_id>` is the Rasa sender id."""

    __tablename__ = "conversation"
    __table_args__ = (Index("uq_conversation_channel_external", "channel", "external_id",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    messages: Mapped[list[MessageLog]] = relationship(back_populates="conversation")

    @property
    def sender_key(self) -> str:
        return f"{self.channel}:{self.external_id}"


class MessageLog(Base):
    """Every inbound and outbound message, in the order the gateway saw them."""

    __tablename__ = "message_log"
    __table_args__ = (
        # A platform message id is unique per channel: the database side of retry dedup.
        Index("uq_message_log_channel_platform_id", "channel", "platform_message_id",
              unique=True),
        Index("ix_message_log_conversation_created", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[Direction] = mapped_column(
        Enum(Direction, native_enum=False, length=8,
             values_callable=lambda e: [m.value for m in e]))
    sender_id: Mapped[str] = mapped_column(String(128))
    platform_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Organisation(Base):
    """A legal-service organisation in the bureau's directory.

    The common part of every kind; capability-specific details (contact point opening hours,
    notary matters) live in their own tables keyed by `organisation.id`.
    """

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=32,
             values_callable=lambda e: [m.value for m in e]))
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(64), default=None)
    is_sample: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(String(300), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ChannelCursor(Base):
    """Where a pull-based channel stopped reading, per source (WeChat Customer Service keeps
    the `sync_msg` next_cursor per open_kfid), so a restart neither replays nor loses messages."""

    __tablename__ = "channel_cursor"
    __table_args__ = (Index("uq_channel_cursor_channel_source", "channel", "source",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(128))
    cursor: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # filed through the assistant, not yet seen by staff
    UNDER_REVIEW = "under_review"
    MATERIALS_NEEDED = "materials_needed"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class LegalAidApplication(Base):
    """A legal aid pre-application: the answers, the screen's outcome and its rule versions."""

    __tablename__ = "legal_aid_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(32), default=None)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(32))
    rules_used: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[ApplicationStatus] = mapped_column(
        Enum(ApplicationStatus, native_enum=False, length=32,
             values_callable=lambda e: [m.value for m in e]), default=ApplicationStatus.SUBMITTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class VerificationFailure(Base):
    """A failed look-up verification (wrong reference or phone digits), for rate limiting."""

    __tablename__ = "verification_failure"
    __table_args__ = (Index("ix_verification_failure_key_at", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- consultation bookings at contact points (issue 5) ---------------------------------------


class ContactPoint(Base):
    """Booking details of an `organisation` row of kind contact_point (法律服务联系点).

    Written by the directory import together with its organisation row (and replaced with it);
    a contact point without this row is listed but cannot be booked.
    """

    __tablename__ = "contact_point"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    park: Mapped[str | None] = mapped_column(String(200), default=None)  # park or project
    slot_minutes: Mapped[int]
    capacity: Mapped[int]  # people per slot

    # The backref lets `DirectoryRepository.replace_all(organisations)` save the details too.
    organisation: Mapped[Organisation] = relationship(
        lazy="joined", backref=backref("contact_point", uselist=False,
                                       cascade="all, delete-orphan", passive_deletes=True))
    topics: Mapped[list[ContactPointTopic]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ContactPointTopic.topic")
    hours: Mapped[list[ContactPointHours]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(ContactPointHours.weekday, ContactPointHours.opens)")


class ContactPointTopic(Base):
    """A consultation topic a contact point serves (docs/catalog.md `topic` codes)."""

    __tablename__ = "contact_point_topic"
    __table_args__ = (Index("uq_contact_point_topic_point_topic", "contact_point_id", "topic",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_point_id: Mapped[int] = mapped_column(
        ForeignKey("contact_point.organisation_id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(32))


class ContactPointHours(Base):
    """One weekly opening period of a contact point: weekday (0 = Monday), [opens, closes)."""

    __tablename__ = "contact_point_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_point_id: Mapped[int] = mapped_column(
        ForeignKey("contact_point.organisation_id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    opens: Mapped[time] = mapped_column(Time())
    closes: Mapped[time] = mapped_column(Time())


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Booking(Base):
    """A consultation booking; `code` (YY-XXXXXXXX) is what the person quotes back.

    Capacity is enforced by the database, not by a count-then-insert: an active booking holds
    a seat number from 1 to the slot's capacity and the unique index on (contact point, slot
    start, seat) admits each seat once, so however many processes book at once, a slot never
    holds more than `capacity` bookings (on SQLite and PostgreSQL alike, with no locks held
    between statements). Cancelling sets `seat` to NULL, which frees the place (NULLs never
    collide in a unique index). The contact point is referenced by its directory code, which
    survives `legalbot directory import` (that replaces the organisation rows).
    """

    __tablename__ = "booking"
    __table_args__ = (
        Index("uq_booking_slot_seat", "contact_point_code", "slot_start", "seat", unique=True),
        Index("ix_booking_reminder_due", "status", "reminder_sent_at", "slot_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    contact_point_code: Mapped[str] = mapped_column(String(64))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime())
    seat: Mapped[int | None] = mapped_column(default=None)
    phone: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128), index=True)
    topic: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]), default=BookingStatus.BOOKED)
    # A scheduler instance claims a reminder (claimed_at) before sending, then marks it sent.
    reminder_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# --- human handoff, staff console and audit log (issue 8) ------------------------------------


class StaffRole(enum.StrEnum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"


class StaffUser(Base):
    """A member of staff who signs in to the console (password: an argon2 hash)."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(
        Enum(StaffRole, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]))
    team: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TicketStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a member of staff; the gateway keeps the bot out
    WITH_STAFF = "with_staff"
    CLOSED = "closed"  # staff handed the conversation back to the bot
    CANCELLED = "cancelled"  # the person went back to the bot ("取消人工")
    CALLBACK = "callback"  # nobody could take it (timeout, outside hours): staff call back


class HandoffTicket(Base):
    """A conversation handed to staff, with the case card of what the bot had learned."""

    __tablename__ = "handoff_ticket"
    __table_args__ = (Index("ix_handoff_ticket_status_team", "status", "team", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), default="handoff")
    team: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    status: Mapped[TicketStatus] = mapped_column(
        Enum(TicketStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]), default=TicketStatus.QUEUED)
    case_card: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), default=None)
    rating: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TicketNote(Base):
    """A private staff note on a ticket; never sent to the person."""

    __tablename__ = "ticket_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("handoff_ticket.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(Base):
    """Every staff action: who, what, when, which conversation (kept after an erasure)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(default=None)
    staff_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(default=None)
    ticket_id: Mapped[int | None] = mapped_column(default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- notary offices and the matters they handle (issue 6) ------------------------------------


class NotaryOffice(Base):
    """Finder details of an `organisation` row of kind notary_office (公证处).

    Written by the directory import together with its organisation row (and replaced with
    it). `hours` is the canonical opening-hours text (`domain.booking.slots.format_hours`);
    `areas` are the districts it serves besides its own (执业区域).
    """

    __tablename__ = "notary_office"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    hours: Mapped[str] = mapped_column(String(300))
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    appointment_url: Mapped[str | None] = mapped_column(String(300), default=None)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)

    organisation: Mapped[Organisation] = relationship(
        lazy="joined", backref=backref("notary_office", uselist=False,
                                       cascade="all, delete-orphan", passive_deletes=True))
    matters: Mapped[list[NotaryOfficeMatter]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
        order_by="NotaryOfficeMatter.matter")


class NotaryOfficeMatter(Base):
    """A notary matter an office handles, with the catalog's terms for it (the directory
    file's `notary_matters`): documents to bring, fee basis, typical working days, whether the
    person must come, whether it is for use abroad. Matter codes: domain/notary/data."""

    __tablename__ = "notary_office_matter"
    __table_args__ = (Index("uq_notary_office_matter_office_matter", "office_id", "matter",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(
        ForeignKey("notary_office.organisation_id", ondelete="CASCADE"))
    matter: Mapped[str] = mapped_column(String(32))
    documents: Mapped[list[str]] = mapped_column(JSON)
    fee: Mapped[str] = mapped_column(Text)
    days: Mapped[int]
    in_person: Mapped[bool]
    for_use_abroad: Mapped[bool]


# --- outbox: every outbound platform message until the platform accepts it (issue 10) ---------


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # not yet accepted by the platform; retried at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; staff see it (OutboxRepository.failed)


class OutboxMessage(Base):
    """One batch of outbound messages to one conversation (a bot turn, a reminder, a staff
    reply), kept until the platform accepts it or a final failure is recorded.

    A sender claims a row by moving `next_attempt_at` past its lease before it sends, so
    several gateways never send the same row at once (`OutboxRepository.claim_due`)."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

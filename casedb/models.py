"""SQLAlchemy models of the case database.

Times are stored in UTC (timezone-aware); what a user sees is converted to Asia/Shanghai at the
edge. Table names are singular snake case; constraint names follow one naming convention so
Alembic diffs are deterministic.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
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

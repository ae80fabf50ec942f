"""Retention: message logs are deleted after `RETENTION_DAYS` (default 180), except in
conversations with an open case.

What counts as an open case is a list of hooks, each a query of the conversation ids to keep
(`OPEN_CASES`): open legal aid pre-applications and future bookings here; other capabilities
add theirs with `register_open_cases` (the handoff tickets, for example). Outbox rows of the
same age go too, unless still pending. Conversation rows themselves stay: other records
(tickets, the audit log) refer to them, and they hold no message text.

Run by the gateway in the background (`gateway.scheduler.run_retention_forever`) and by
`legalbot retention run`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, delete, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from casedb.models import (
    ApplicationStatus,
    Booking,
    BookingStatus,
    Conversation,
    LegalAidApplication,
    MessageLog,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

log = logging.getLogger("casedb.retention")

DEFAULT_DAYS = 180

OPEN_APPLICATION = (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW,
                    ApplicationStatus.MATERIALS_NEEDED)

# A hook: given "now", a query of the ids of conversations whose messages must be kept.
OpenCases = Callable[[datetime], Select[int]]


def open_legal_aid_applications(now: datetime) -> Select[int]:
    return select(Conversation.id).join(LegalAidApplication, and_(
        LegalAidApplication.channel == Conversation.channel,
        LegalAidApplication.external_id == Conversation.external_id)).where(
        LegalAidApplication.status.in_(OPEN_APPLICATION))


def future_bookings(now: datetime) -> Select[int]:
    return select(Conversation.id).join(Booking, and_(
        Booking.channel == Conversation.channel,
        Booking.external_id == Conversation.external_id)).where(
        Booking.status == BookingStatus.BOOKED, Booking.slot_start >= now)


OPEN_CASES: list[OpenCases] = [open_legal_aid_applications, future_bookings]


def register_open_cases(hook: OpenCases) -> None:
    """Keep the messages of the conversations `hook` selects (e.g. open handoff tickets)."""
    if hook not in OPEN_CASES:
        OPEN_CASES.append(hook)


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    messages: int
    outbox: int


async def purge(session: AsyncSession, *, days: int = DEFAULT_DAYS,
                now: datetime | None = None) -> RetentionResult:
    """Delete message logs (and finished outbox rows) older than `days`, except where a case
    is open; in the caller's transaction."""
    if days < 1:
        raise ValueError("retention must be at least one day")
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    keep = union(*(hook(now) for hook in OPEN_CASES)).subquery()
    kept_ids = select(keep.c[0])
    messages = await session.execute(delete(MessageLog).where(
        MessageLog.created_at < cutoff, MessageLog.conversation_id.not_in(kept_ids)))
    outbox = await session.execute(delete(OutboxMessage).where(
        OutboxMessage.created_at < cutoff, OutboxMessage.status != OutboxStatus.PENDING,
        OutboxMessage.conversation_id.not_in(kept_ids)))
    result = RetentionResult(cutoff=cutoff,
                             messages=int(getattr(messages, "rowcount", 0) or 0),
                             outbox=int(getattr(outbox, "rowcount", 0) or 0))
    log.info("retention: deleted %d messages and %d outbox rows older than %s", result.messages,
             result.outbox, cutoff.date().isoformat())
    return result

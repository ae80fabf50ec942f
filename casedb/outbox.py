"""The outbox repository: outbound messages kept until the platform accepts them.

Rows are claimed before they are sent, with one atomic UPDATE … RETURNING (`FOR UPDATE SKIP
LOCKED` on PostgreSQL), as the reminder scheduler does, so any number of gateways can retry
the same table without sending a row twice at once; a claim left by a gateway that died is
taken again when its lease has run out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casedb.models import Conversation, OutboxMessage, OutboxStatus, utcnow

ERROR_CHARS = 500


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, conversation: Conversation, messages: Sequence[dict[str, Any]], *,
                  claim_until: datetime, now: datetime | None = None) -> OutboxMessage:
        """A pending row, already claimed by the caller until `claim_until` (it sends at once;
        if it dies first, another run takes the row after that)."""
        row = OutboxMessage(conversation_id=conversation.id, channel=conversation.channel,
                            external_id=conversation.external_id, messages=list(messages),
                            status=OutboxStatus.PENDING, attempts=0,
                            next_attempt_at=claim_until, created_at=now or utcnow())
        self.session.add(row)
        await self.session.flush()
        return row

    async def claim_due(self, *, now: datetime, lease: timedelta,
                        limit: int = 50) -> list[OutboxMessage]:
        """Atomically claim pending rows whose time has come, oldest first."""
        due = (OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        ids = (select(OutboxMessage.id).where(*due).order_by(OutboxMessage.id).limit(limit)
               .with_for_update(skip_locked=True))
        stmt = (update(OutboxMessage).where(OutboxMessage.id.in_(ids.scalar_subquery()), *due)
                .values(next_attempt_at=now + lease).returning(OutboxMessage.id)
                .execution_options(synchronize_session=False))
        claimed = list((await self.session.execute(stmt)).scalars())
        if not claimed:
            return []
        rows = (select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
                .order_by(OutboxMessage.id).execution_options(populate_existing=True))
        return list((await self.session.execute(rows)).scalars())

    async def mark_sent(self, row_id: int, *, at: datetime) -> None:
        await self.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                   .values(status=OutboxStatus.SENT, sent_at=at,
                                           attempts=OutboxMessage.attempts + 1,
                                           last_error=None))

    async def mark_attempt_failed(self, row_id: int, error: str, *, at: datetime,
                                  retry_at: datetime | None) -> None:
        """Count a failed attempt: retry at `retry_at`, or (None) record the final failure."""
        values: dict[str, Any] = {"attempts": OutboxMessage.attempts + 1,
                                  "last_error": error[:ERROR_CHARS]}
        if retry_at is None:
            values.update(status=OutboxStatus.FAILED, failed_at=at)
        else:
            values["next_attempt_at"] = retry_at
        await self.session.execute(update(OutboxMessage).where(
            OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(**values))

    async def get(self, row_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, row_id, populate_existing=True)

    async def failed(self, *, channel: str | None = None, since: datetime | None = None,
                     limit: int = 100) -> list[OutboxMessage]:
        """Messages that never reached the person, newest first: for staff to follow up."""
        stmt = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        if channel is not None:
            stmt = stmt.where(OutboxMessage.channel == channel)
        if since is not None:
            stmt = stmt.where(OutboxMessage.failed_at >= since)
        stmt = stmt.order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
        return list((await self.session.execute(stmt.limit(limit))).scalars())

    async def pending_count(self) -> int:
        stmt = select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING)
        return int((await self.session.execute(stmt)).scalar_one())

    async def erase_conversation(self, conversation_id: int) -> int:
        """Delete every row of one conversation (personal data erasure)."""
        result = await self.session.execute(delete(OutboxMessage).where(
            OutboxMessage.conversation_id == conversation_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge_sent(self, before: datetime) -> int:
        """Delete rows delivered before `before` (the message log keeps what was said)."""
        result = await self.session.execute(delete(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

"""Repositories: thin query functions over one aggregate each, taking a session.

Callers own the transaction (`async with factory.begin() as session:`); repositories flush but
never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from casedb.models import (
    Conversation,
    Direction,
    MessageLog,
    Organisation,
    OrganisationKind,
    utcnow,
)


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
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            if platform_message_id is None:
                raise
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


class PersonalDataRepository:
    """Erasure on request (个人信息保护法 Art. 47): everything held about one conversation."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def erase_conversation(self, channel: str, external_id: str) -> int:
        """Delete the conversation and its message log; returns the number of rows deleted."""
        conversation = await ConversationRepository(self.session).get(channel, external_id)
        if conversation is None:
            return 0
        result = await self.session.execute(
            delete(MessageLog).where(MessageLog.conversation_id == conversation.id))
        await self.session.execute(delete(Conversation).where(Conversation.id == conversation.id))
        return int(getattr(result, "rowcount", 0) or 0) + 1


from casedb.models import ChannelCursor  # noqa: E402 - appended with its model (issue 7)


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

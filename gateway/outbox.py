"""Messages the gateway sends on its own (reminders, and later staff replies): log, then send.

Every outbound message is written to the message log before it goes to the channel, so staff
see it in the transcript even if the platform then refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.models import Direction
from casedb.repositories import ConversationRepository, MessageLogRepository
from connectors.base import Channel, OutboundMessage

SYSTEM_SENDER = "system"


class UnknownChannel(LookupError):
    pass


class Outbox:
    def __init__(self, db: async_sessionmaker[AsyncSession],
                 channels: Mapping[str, Channel]) -> None:
        self._db = db
        self._channels = channels

    async def deliver(self, channel: str, conversation_id: str,
                      messages: Sequence[OutboundMessage], *, sender: str = SYSTEM_SENDER) -> None:
        """Log `messages` in the conversation, then send them through `channel`."""
        target = self._channels.get(channel)
        if target is None:  # a platform unmounted since: keep the claim for a later run
            raise UnknownChannel(f"channel {channel!r} is not mounted")
        async with self._db.begin() as session:
            conversation = await ConversationRepository(session).get_or_create(
                channel, conversation_id)
            log = MessageLogRepository(session)
            for message in messages:
                extra = {k: v for k, v in message.to_json().items() if k != "text"}
                await log.add(conversation, Direction.OUTBOUND, sender_id=sender,
                              text=message.text, payload=extra or None)
        await target.send(conversation_id, messages)

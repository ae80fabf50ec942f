"""The router: dedup → message log → bot (or, later, staff) → message log → replies."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.models import Conversation, Direction
from casedb.repositories import (
    ConversationRepository,
    MessageLogRepository,
    PersonalDataRepository,
)
from connectors.base import InboundMessage, OutboundMessage
from gateway.rasa import RasaClient, RasaUnavailable
from gateway.replies import reply
from gateway.state import StateStore

log = logging.getLogger("gateway.router")

BOT_SENDER = "bot"


def is_erase_request(message: OutboundMessage) -> bool:
    """The action server's request to erase the conversation (actions/privacy.py)."""
    return message.custom is not None and message.custom.get("privacy") == "erase"


@dataclass(frozen=True)
class Outcome:
    """What became of one inbound message."""

    replies: tuple[OutboundMessage, ...]
    duplicate: bool = False
    bot_available: bool = True


class Router:
    def __init__(self, db: async_sessionmaker[AsyncSession], state: StateStore,
                 rasa: RasaClient, dedup_ttl: int = 86400) -> None:
        self._db = db
        self._state = state
        self._rasa = rasa
        self._dedup_ttl = dedup_ttl

    async def handle(self, message: InboundMessage) -> Outcome:
        started = time.perf_counter()
        dedup_key = f"{message.channel}:{message.message_id}"
        if message.message_id is not None and not await self._state.first_seen(
                dedup_key, self._dedup_ttl):
            log.info("duplicate message channel=%s id=%s", message.channel, message.message_id)
            return Outcome(replies=(), duplicate=True)

        try:
            conversation = await self._log_inbound(message)
        except Exception:
            # Not stored: the platform's retry must not be taken for a duplicate.
            if message.message_id is not None:
                await self._state.forget(dedup_key)
            raise
        if conversation is None:  # the database knew this platform message id already
            return Outcome(replies=(), duplicate=True)

        bot_available = True
        try:
            replies: Sequence[OutboundMessage] = await self._rasa.send(
                message.sender_key, message.content, input_channel=message.channel,
                metadata=dict(message.metadata))
        except RasaUnavailable as exc:
            log.error("bot unavailable for %s: %s", message.sender_key, exc)
            bot_available = False
            replies = [OutboundMessage(text=reply("bot_unavailable"))]
        else:
            if not replies:  # every turn of this assistant answers; silence means a failed action
                log.error("bot gave no answer for %s", message.sender_key)
                bot_available = False
                replies = [OutboundMessage(text=reply("bot_no_answer"))]

        if any(is_erase_request(r) for r in replies):
            replies = [r for r in replies if not is_erase_request(r)]
            await self._erase(message)
            log.info("erased conversation channel=%s on request", message.channel)
            return Outcome(replies=tuple(replies))

        await self._log_outbound(conversation, replies)
        log.info("turn channel=%s conversation=%s replies=%d ms=%.1f", message.channel,
                 conversation.id, len(replies), (time.perf_counter() - started) * 1000)
        return Outcome(replies=tuple(replies), bot_available=bot_available)

    async def _erase(self, message: InboundMessage) -> None:
        """Delete what the case database and Rasa hold about this conversation."""
        async with self._db.begin() as session:
            await PersonalDataRepository(session).erase_conversation(
                message.channel, message.conversation_id)
        try:
            await self._rasa.erase_tracker(message.sender_key)
        except RasaUnavailable as exc:  # the database part is done; say so loudly
            log.error("could not erase the Rasa tracker of %s: %s", message.channel, exc)

    async def _log_inbound(self, message: InboundMessage) -> Conversation | None:
        async with self._db.begin() as session:
            conversation = await ConversationRepository(session).get_or_create(
                message.channel, message.conversation_id)
            row = await MessageLogRepository(session).add(
                conversation, Direction.INBOUND, sender_id=message.sender_id,
                text=message.text, payload={"payload": message.payload} if message.payload
                else None, platform_message_id=message.message_id, at=message.received_at)
            return None if row is None else conversation

    async def _log_outbound(self, conversation: Conversation,
                            replies: Sequence[OutboundMessage]) -> None:
        if not replies:
            return
        async with self._db.begin() as session:
            conversation = await session.merge(conversation)
            messages = MessageLogRepository(session)
            for outbound in replies:
                extra = {k: v for k, v in outbound.to_json().items() if k != "text"}
                await messages.add(conversation, Direction.OUTBOUND, sender_id=BOT_SENDER,
                                   text=outbound.text, payload=extra or None)

"""The router: dedup → message log → bot (or, later, staff) → message log → replies."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.models import Conversation, Direction
from casedb.repositories import (
    ConversationRepository,
    MessageLogRepository,
    PersonalDataRepository,
)
from connectors.base import InboundMessage, OutboundMessage
from gateway.handoff import Handoff
from gateway.metrics import count_error, observe_stage
from gateway.rasa import RasaClient, RasaUnavailable
from gateway.replies import reply
from gateway.state import StateStore

log = logging.getLogger("gateway.router")

BOT_SENDER = "bot"


def is_erase_request(message: OutboundMessage) -> bool:
    """The action server's request to erase the conversation (actions/privacy.py)."""
    return message.custom is not None and message.custom.get("privacy") == "erase"


def _inbound_payload(message: InboundMessage) -> dict[str, str] | None:
    """What the log keeps besides the text: a button payload, or the kind of a message the
    assistant cannot read (voice, image, ...: connectors.platform marks it)."""
    if message.payload:
        return {"payload": message.payload}
    unsupported = message.metadata.get("unsupported")
    return {"unsupported": str(unsupported)} if unsupported else None


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
        self.handoff: Handoff | None = None  # set by the app: human handoff routing

    async def handle(self, message: InboundMessage) -> Outcome:
        conversation = await self.accept(message)
        if conversation is None:
            return Outcome(replies=(), duplicate=True)
        return await self.respond(message, conversation)

    async def accept(self, message: InboundMessage) -> Conversation | None:
        """Deduplicate and store `message` in the message log: its conversation, or None for
        a duplicate. Raises when it could not be stored, so the platform must retry; platform
        channels call this before they acknowledge, and `respond` after."""
        started = time.perf_counter()
        dedup_key = f"{message.channel}:{message.message_id}"
        if message.message_id is not None and not await self._first_seen(dedup_key):
            log.info("duplicate message channel=%s id=%s", message.channel, message.message_id)
            return None
        try:
            conversation = await self._log_inbound(message)
        except Exception:
            # Not stored: the platform's retry must not be taken for a duplicate.
            if message.message_id is not None:
                await self._forget(dedup_key)
            raise
        if conversation is None:  # the database knew this platform message id already
            log.info("duplicate message channel=%s id=%s", message.channel, message.message_id)
        else:
            observe_stage(message.channel, "accept", time.perf_counter() - started)
        return conversation

    async def _first_seen(self, key: str) -> bool:
        """The shared dedup store; when it is down, the message log's unique platform id
        (`_log_inbound`) still catches retries, so a message is never lost to an outage."""
        try:
            return await self._state.first_seen(key, self._dedup_ttl)
        except RedisError as exc:
            log.warning("dedup store unavailable, the database deduplicates: %s", exc)
            return True

    async def _forget(self, key: str) -> None:
        try:
            await self._state.forget(key)
        except RedisError as exc:
            log.warning("dedup store unavailable, could not forget %s: %s", key, exc)

    async def respond(self, message: InboundMessage, conversation: Conversation) -> Outcome:
        """The bot's turn for a stored message; the replies are logged, not yet sent."""
        started = time.perf_counter()
        if self.handoff is not None:
            try:
                diverted = await self.handoff.divert(message, conversation)
            except RedisError as exc:  # routing state unreadable: the bot answers meanwhile
                log.warning("routing state unavailable, the bot answers: %s", exc)
                diverted = None
            if diverted is not None:  # queued or with staff: the bot never sees it
                await self._log_outbound(conversation, diverted)
                observe_stage(message.channel, "gateway", time.perf_counter() - started)
                return Outcome(replies=tuple(diverted))
        bot_available = True
        rasa_started = time.perf_counter()
        try:
            replies: Sequence[OutboundMessage] = await self._rasa.send(
                message.sender_key, message.content, input_channel=message.channel,
                metadata=dict(message.metadata))
        except RasaUnavailable as exc:
            log.error("bot unavailable for %s: %s", message.sender_key, exc)
            count_error("rasa_unavailable")
            bot_available = False
            replies = [OutboundMessage(text=reply("bot_unavailable"))]
        else:
            if not replies:  # every turn of this assistant answers; silence means a failed action
                log.error("bot gave no answer for %s", message.sender_key)
                count_error("rasa_no_answer")
                bot_available = False
                replies = [OutboundMessage(text=reply("bot_no_answer"))]
        rasa_s = time.perf_counter() - rasa_started
        observe_stage(message.channel, "rasa", rasa_s)

        if any(is_erase_request(r) for r in replies):
            replies = [r for r in replies if not is_erase_request(r)]
            await self.erase(message.channel, message.conversation_id)
            log.info("erased conversation channel=%s on request", message.channel)
            return Outcome(replies=tuple(replies))

        if self.handoff is not None:  # a handoff payload becomes the queue place
            try:
                replies = await self.handoff.after_bot(message, conversation, replies)
            except RedisError as exc:
                log.warning("routing state unavailable after the bot's turn: %s", exc)
        await self._log_outbound(conversation, replies)
        elapsed = time.perf_counter() - started
        observe_stage(message.channel, "gateway", elapsed - rasa_s)
        log.info("turn channel=%s conversation=%s replies=%d ms=%.1f rasa_ms=%.1f",
                 message.channel, conversation.id, len(replies), elapsed * 1000, rasa_s * 1000)
        return Outcome(replies=tuple(replies), bot_available=bot_available)

    async def erase(self, channel: str, conversation_id: str) -> int:
        """Delete what the case database and Rasa hold about one conversation (asked for in
        the chat, or by a supervisor in the console); returns the database rows deleted."""
        async with self._db.begin() as session:
            deleted = await PersonalDataRepository(session).erase_conversation(
                channel, conversation_id)
        try:
            await self._rasa.erase_tracker(f"{channel}:{conversation_id}")
        except RasaUnavailable as exc:  # the database part is done; say so loudly
            log.error("could not erase the Rasa tracker of %s: %s", channel, exc)
        return deleted

    async def _log_inbound(self, message: InboundMessage) -> Conversation | None:
        async with self._db.begin() as session:
            conversation = await ConversationRepository(session).get_or_create(
                message.channel, message.conversation_id)
            row = await MessageLogRepository(session).add(
                conversation, Direction.INBOUND, sender_id=message.sender_id,
                text=message.text, payload=_inbound_payload(message),
                platform_message_id=message.message_id, at=message.received_at)
            return None if row is None else conversation

    async def _log_outbound(self, conversation: Conversation,
                            replies: Sequence[OutboundMessage]) -> None:
        if not replies:
            return
        async with self._db.begin() as session:
            session.add(conversation)  # loaded by this turn: no second SELECT (merge)
            messages = MessageLogRepository(session)
            for outbound in replies:
                extra = {k: v for k, v in outbound.to_json().items() if k != "text"}
                await messages.add(conversation, Direction.OUTBOUND, sender_id=BOT_SENDER,
                                   text=outbound.text, payload=extra or None)

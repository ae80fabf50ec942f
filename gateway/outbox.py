"""Everything the gateway sends outside a web request goes through here: bot replies on the
messaging platforms, reminders, staff replies.

`deliver` writes the messages to the message log (unless the router logged them already) and
an outbox row in one transaction, then tries to send at once. A send the platform refuses, or
that cannot reach it, stays in the outbox and is retried with exponential backoff by
`run_forever` (each gateway runs it; rows are claimed atomically) until the platform accepts
it or the last attempt fails; a final failure is recorded on the row, where staff find it
(`casedb.outbox.OutboxRepository.failed`). Delivery is at least once: a send that reached the
platform but whose answer was lost is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.models import Direction, OutboxMessage, utcnow
from casedb.outbox import OutboxRepository
from casedb.repositories import ConversationRepository, MessageLogRepository
from connectors.base import Channel, OutboundMessage
from gateway.metrics import count_error, timed

log = logging.getLogger("gateway.outbox")

SYSTEM_SENDER = "system"
FIRST_RETRY_SECONDS = 5.0  # then doubling: 5 s, 10 s, 20 s, ... capped at MAX_RETRY_SECONDS
MAX_RETRY_SECONDS = 3600.0
LEASE = timedelta(minutes=2)  # a claimed row another gateway may take when this one died

SendNow = Callable[[], Awaitable[None]]


class UnknownChannel(LookupError):
    pass


def backoff(attempts: int, first: float = FIRST_RETRY_SECONDS) -> timedelta:
    """The wait after `attempts` failed attempts."""
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


class Outbox:
    def __init__(self, db: async_sessionmaker[AsyncSession], channels: Mapping[str, Channel],
                 *, max_attempts: int = 8, first_retry: float = FIRST_RETRY_SECONDS,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._channels = channels
        self.max_attempts = max_attempts
        self.first_retry = first_retry
        self.clock = clock

    async def deliver(self, channel: str, conversation_id: str,
                      messages: Sequence[OutboundMessage], *, sender: str = SYSTEM_SENDER,
                      log_messages: bool = True, send_now: SendNow | None = None) -> None:
        """Record `messages` for the conversation (message log and outbox), then send them.

        Raises only when nothing could be recorded (an unmounted channel, the database down);
        a failed send is retried later. `log_messages=False` when the router logged them
        already; `send_now` replaces the first attempt (a platform's reply to the message being
        answered, e.g. in its thread), retries use the channel's `send`."""
        if not messages:
            return
        target = self._channels.get(channel)
        if target is None:  # a platform unmounted since: the caller keeps its claim
            raise UnknownChannel(f"channel {channel!r} is not mounted")
        now = self.clock()
        async with self._db.begin() as session:
            conversation = await ConversationRepository(session).get_or_create(
                channel, conversation_id)
            if log_messages:
                message_log = MessageLogRepository(session)
                for message in messages:
                    extra = {k: v for k, v in message.to_json().items() if k != "text"}
                    await message_log.add(conversation, Direction.OUTBOUND, sender_id=sender,
                                          text=message.text, payload=extra or None)
            row = await OutboxRepository(session).add(
                conversation, [m.to_json() for m in messages], claim_until=now + LEASE,
                now=now)
        await self._attempt(row, send_now or (lambda: target.send(conversation_id, messages)))

    async def _attempt(self, row: OutboxMessage, send: SendNow) -> bool:
        try:
            with timed(row.channel, "send"):
                await send()
        except Exception as exc:
            count_error("send_failed")
            attempts = row.attempts + 1
            final = attempts >= self.max_attempts
            now = self.clock()
            error = f"{type(exc).__name__}: {exc}"
            async with self._db.begin() as session:
                await OutboxRepository(session).mark_attempt_failed(
                    row.id, error, at=now,
                    retry_at=None if final else now + backoff(attempts, self.first_retry))
            if final:
                log.error("outbox %d to %s: gave up after %d attempts: %s", row.id,
                          row.channel, attempts, error)
            else:
                log.warning("outbox %d to %s: attempt %d failed, will retry: %s", row.id,
                            row.channel, attempts, error)
            return False
        async with self._db.begin() as session:
            await OutboxRepository(session).mark_sent(row.id, at=self.clock())
        return True

    async def run_once(self, batch: int = 50) -> int:
        """Send every row that is due; returns how many the platforms accepted."""
        sent = 0
        while True:
            async with self._db.begin() as session:
                rows = await OutboxRepository(session).claim_due(now=self.clock(), lease=LEASE,
                                                                 limit=batch)
            for row in rows:
                target = self._channels.get(row.channel)
                if target is None:
                    await self._attempt(row, _unmounted(row.channel))
                    continue
                messages = [OutboundMessage.from_rasa(m) for m in row.messages]
                sent += await self._attempt(row, _send(target, row.external_id, messages))
            if len(rows) < batch:
                return sent

    async def run_forever(self, stop: asyncio.Event, interval_s: float = 5.0) -> None:
        """Retry due rows every `interval_s` until `stop` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # the database is down: try again next round
                log.warning("outbox run failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)


def _send(target: Channel, conversation_id: str,
          messages: Sequence[OutboundMessage]) -> SendNow:
    return lambda: target.send(conversation_id, messages)


def _unmounted(channel: str) -> SendNow:
    async def fail() -> None:
        raise UnknownChannel(f"channel {channel!r} is not mounted")
    return fail

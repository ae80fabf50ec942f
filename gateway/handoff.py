"""Human handoff: the routing state per conversation and what staff do with a ticket.

The routing state lives in the gateway's state store (Redis with several gateways), keyed by the
Rasa sender id, as `<mode>:<ticket id>`:

    (none) ──handoff payload──▶ queued ──claim──▶ staff ──close──▶ rating ──any message──▶ (none)
                 │ outside hours       │ timeout        │ transfer to a team: back to queued
                 ▼                     ▼                │
              message ◀─────────── (callback)           ▼ "取消人工" from queued/staff/message

While a conversation is queued, with staff or leaving a message, nothing goes to Rasa: the router
logs the message, publishes it to the console and answers from here. The action server starts a
handoff by writing a ticket and sending the custom payload `{"handoff": {"ticket": id, ...}}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.handoff import (
    Actor,
    AuditRepository,
    NoteRepository,
    StaffRepository,
    TicketRepository,
)
from casedb.models import Conversation, HandoffTicket, StaffUser, TicketStatus, utcnow
from connectors.base import Button, InboundMessage, OutboundMessage
from domain.booking.calendar import WorkCalendar, default_calendar
from gateway.outbox import Outbox
from gateway.state import StateStore

log = logging.getLogger("gateway.handoff")

DATA = Path(__file__).parent / "data" / "handoff.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CONSOLE_TOPIC = "console"  # every console event; each socket filters what its page shows
SYSTEM = Actor(None, "system")

QUEUED, STAFF, RATING, MESSAGE = "queued", "staff", "rating", "message"
_RATING_PAYLOAD = re.compile(r'^/rate_handoff\{"score":\s*"?([1-5])"?\}$')


@cache
def config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return data


def say(key: str, **values: Any) -> str:
    return str(config()["texts"][key]).strip().format(**values)


def team_name(team: str) -> str:
    return str(config()["teams"].get(team, team))


def console_text(key: str) -> str:
    return str(config()["console"][key]).strip()


def label(group: str, key: str) -> str:
    """A console label (`status_names`, `card_labels`, `card_fields`); unknown keys show as
    they are."""
    return str(config()[group].get(key, key))


def notify_text(key: str, **values: Any) -> str:
    node: Any = config()["notify"]
    for part in key.split("."):
        node = node[part]
    return str(node).strip().format(**values)


def teams() -> dict[str, str]:
    return dict(config()["teams"])


def canned_replies() -> list[str]:
    return [str(r) for r in config()["canned_replies"]]


@dataclass(frozen=True)
class Route:
    mode: str
    ticket_id: int

    def encode(self) -> str:
        return f"{self.mode}:{self.ticket_id}"

    @classmethod
    def decode(cls, value: str | None) -> Route | None:
        if not value:
            return None
        mode, _, ticket = value.partition(":")
        return cls(mode, int(ticket)) if ticket.isdigit() else None


class WorkingHours:
    """Staff answer chats in these periods of working days (Asia/Shanghai)."""

    def __init__(self, periods: Sequence[str], calendar: WorkCalendar | None = None) -> None:
        self.periods: list[tuple[time, time]] = []
        for period in periods:
            start, _, end = period.partition("-")
            self.periods.append((time.fromisoformat(start), time.fromisoformat(end)))
        self.calendar = calendar or default_calendar()

    @classmethod
    def from_config(cls) -> WorkingHours:
        return cls([str(p) for p in config()["working_hours"]])

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(SHANGHAI)
        if not self.calendar.is_working_day(local.date()):
            return False
        return any(start <= local.time() < end for start, end in self.periods)

    def describe(self) -> str:
        return "、".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.periods)


def rating_buttons() -> tuple[Button, ...]:
    return tuple(Button(title=str(b["title"]),
                        payload=f'/rate_handoff{{"score":{int(b["score"])}}}')
                 for b in config()["rating_buttons"])


def parse_rating(message: InboundMessage) -> int | None:
    if message.payload:
        match = _RATING_PAYLOAD.match(message.payload.strip())
        return int(match.group(1)) if match else None
    text = (message.text or "").strip()
    if text in {"1", "2", "3", "4", "5"}:
        return int(text)
    for button in config()["rating_buttons"]:
        if text == button["title"]:
            return int(button["score"])
    return None


def is_cancel(message: InboundMessage) -> bool:
    text = (message.text or "").strip().rstrip("。.!!")  # noqa: B005 - any of these marks
    return text in config()["cancel_words"] or message.payload == "/cancel_handoff"


class NotAllowed(Exception):
    """The ticket is not in a state (or not assigned to a person) that allows this."""


class Handoff:
    """The routing state machine and the staff operations on tickets."""

    def __init__(self, db: async_sessionmaker[AsyncSession], state: StateStore, outbox: Outbox,
                 hours: WorkingHours | None = None, *, timeout: timedelta | None = None,
                 default_minutes: float | None = None) -> None:
        self._db = db
        self._state = state
        self._outbox = outbox
        self.hours = hours or WorkingHours.from_config()
        self.timeout = timeout or timedelta(seconds=int(config()["timeout_seconds"]))
        self._default_minutes = float(default_minutes or config()["default_minutes_per_place"])

    # -- the router's side --------------------------------------------------------------

    async def route(self, sender_key: str) -> Route | None:
        return Route.decode(await self._state.get_route(sender_key))

    async def divert(self, message: InboundMessage,
                     conversation: Conversation) -> list[OutboundMessage] | None:
        """Replies for a message that must not go to the bot, or None to let the bot answer."""
        route = await self.route(message.sender_key)
        if route is None:
            return None
        if route.mode == RATING:
            await self._state.set_route(message.sender_key, None)
            score = parse_rating(message)
            if score is None:
                return None  # the person moved on: the bot answers
            async with self._db.begin() as session:
                await TicketRepository(session).set_rating(route.ticket_id, score)
            return [OutboundMessage(text=say("rating_thanks"))]
        if is_cancel(message):
            async with self._db.begin() as session:
                tickets = TicketRepository(session)
                ticket = await tickets.get(route.ticket_id)
                if route.mode in (QUEUED, STAFF):
                    await tickets.finish(route.ticket_id, TicketStatus.CANCELLED)
            await self._state.set_route(message.sender_key, None)
            if ticket is not None:
                await self._publish_ticket(ticket, "cancelled")
            return [OutboundMessage(text=say("cancelled"))]
        async with self._db.begin() as session:
            tickets = TicketRepository(session)
            ticket = await tickets.get(route.ticket_id)
            position = (await tickets.position(ticket)
                        if ticket is not None and route.mode == QUEUED else 0)
        if ticket is None:  # erased or gone: never trap the person away from the bot
            await self._state.set_route(message.sender_key, None)
            return None
        await self._publish_message(ticket, "in", message.sender_id, message.text
                                    or message.payload or "")
        if route.mode == QUEUED:
            return [OutboundMessage(text=say("still_queued", position=max(position, 1)))]
        if route.mode == MESSAGE:
            return [OutboundMessage(text=say("message_recorded"))]
        return []  # with staff: they see it live and answer themselves

    async def after_bot(self, message: InboundMessage, conversation: Conversation,
                        replies: Sequence[OutboundMessage]) -> list[OutboundMessage]:
        """Replace the action server's handoff payload by the queue place (or the away text)."""
        specs = [r.custom["handoff"] for r in replies
                 if r.custom is not None and isinstance(r.custom.get("handoff"), dict)]
        if not specs:
            return list(replies)
        rest = [r for r in replies if r.custom is None or "handoff" not in r.custom]
        return rest + await self.start(conversation, dict(specs[-1]))

    async def start(self, conversation: Conversation,
                    spec: dict[str, Any]) -> list[OutboundMessage]:
        """Queue the conversation for staff (or take a message outside working hours)."""
        now = utcnow()
        open_hours = self.hours.is_open(now)
        async with self._db.begin() as session:
            conversation = await session.merge(conversation)
            tickets = TicketRepository(session)
            ticket = await tickets.open_for(conversation.id)
            if ticket is None and isinstance(spec.get("ticket"), int):
                ticket = await tickets.get(spec["ticket"])
                if ticket is not None and ticket.conversation_id != conversation.id:
                    ticket = None
            if ticket is None:
                team = str(spec.get("team") or "legal_aid")
                ticket = await tickets.create(
                    conversation, team=team if team in teams() else "legal_aid",
                    reason=str(spec.get("reason") or "request_human"),
                    case_card=dict(spec.get("case_card") or {}),
                    kind=str(spec.get("kind") or "handoff"))
            if not open_hours and ticket.status is TicketStatus.QUEUED:
                await tickets.finish(ticket.id, TicketStatus.CALLBACK,
                                     only_from=(TicketStatus.QUEUED,))
                await session.refresh(ticket)
            position = await tickets.position(ticket)
            wait = await tickets.average_wait(ticket.team)
        if ticket.status is TicketStatus.CALLBACK:
            await self._state.set_route(conversation.sender_key,
                                        Route(MESSAGE, ticket.id).encode())
            await self._publish_ticket(ticket, "callback")
            return [OutboundMessage(text=say("outside_hours", hours=self.hours.describe()))]
        mode = STAFF if ticket.status is TicketStatus.WITH_STAFF else QUEUED
        await self._state.set_route(conversation.sender_key, Route(mode, ticket.id).encode())
        await self._publish_ticket(ticket, "queued")
        log.info("handoff queued ticket=%d team=%s position=%d", ticket.id, ticket.team, position)
        return [OutboundMessage(text=say("queued", team=team_name(ticket.team),
                                         position=max(position, 1),
                                         minutes=self.estimate_minutes(position, wait)))]

    def estimate_minutes(self, position: int, average_wait: timedelta | None) -> int:
        per_place = (average_wait.total_seconds() / 60 if average_wait is not None
                     else self._default_minutes)
        return max(1, math.ceil(per_place * max(position, 1)))

    # -- the console's side ---------------------------------------------------------------

    async def claim(self, ticket_id: int, staff: StaffUser) -> HandoffTicket | None:
        """Take a queued ticket; None when someone else was first."""
        async with self._db.begin() as session:
            tickets = TicketRepository(session)
            if not await tickets.claim(ticket_id, staff.id):
                return None
            ticket = await tickets.get(ticket_id)
            assert ticket is not None
            await session.refresh(ticket)
            await AuditRepository(session).record(_actor(staff), "claim", ticket=ticket)
        await self._state.set_route(_sender_key(ticket), Route(STAFF, ticket.id).encode())
        await self._send(ticket, staff, say("claimed", team=team_name(ticket.team)))
        await self._publish_ticket(ticket, "claimed", staff=staff.username)
        return ticket

    async def reply(self, ticket_id: int, staff: StaffUser, text: str) -> HandoffTicket:
        ticket = await self._assigned(ticket_id, staff)
        async with self._db.begin() as session:
            await AuditRepository(session).record(_actor(staff), "reply", ticket=ticket,
                                                  detail={"chars": len(text)})
        await self._send(ticket, staff, text)
        return ticket

    async def note(self, ticket_id: int, staff: StaffUser, text: str) -> None:
        async with self._db.begin() as session:
            ticket = await TicketRepository(session).get(ticket_id)
            if ticket is None:
                raise NotAllowed("no such ticket")
            await NoteRepository(session).add(ticket_id, staff.id, text)
            await AuditRepository(session).record(_actor(staff), "note", ticket=ticket)
        await self._publish_ticket(ticket, "note", staff=staff.username)

    async def close(self, ticket_id: int, staff: StaffUser) -> HandoffTicket:
        """Hand the conversation back to the bot: greet the person and ask for a rating."""
        ticket = await self._assigned(ticket_id, staff)
        async with self._db.begin() as session:
            if not await TicketRepository(session).finish(ticket_id, TicketStatus.CLOSED):
                raise NotAllowed("ticket is not open")
            await AuditRepository(session).record(_actor(staff), "close", ticket=ticket)
        await self._state.set_route(_sender_key(ticket), Route(RATING, ticket.id).encode())
        await self._outbox.deliver(ticket.channel, ticket.external_id, [
            OutboundMessage(text=say("staff_left") + say("welcome_back")),
            OutboundMessage(text=say("rating_question"), buttons=rating_buttons()),
        ])
        await self._publish_ticket(ticket, "closed", staff=staff.username)
        return ticket

    async def transfer(self, ticket_id: int, staff: StaffUser, *, team: str | None = None,
                       to_staff: StaffUser | None = None) -> HandoffTicket:
        ticket = await self._assigned(ticket_id, staff)
        if team is not None and team not in teams():
            raise NotAllowed("unknown team")
        async with self._db.begin() as session:
            tickets = TicketRepository(session)
            if not await tickets.transfer(ticket_id, team=team,
                                          staff_id=to_staff.id if to_staff else None):
                raise NotAllowed("ticket is not open")
            ticket = await tickets.get(ticket_id) or ticket
            await session.refresh(ticket)
            await AuditRepository(session).record(
                _actor(staff), "transfer", ticket=ticket,
                detail={"team": team, "to": to_staff.username if to_staff else None})
        mode = STAFF if to_staff is not None else QUEUED
        await self._state.set_route(_sender_key(ticket), Route(mode, ticket.id).encode())
        await self._send(ticket, staff, say("transferred", team=team_name(ticket.team)))
        await self._publish_ticket(ticket, "transferred", staff=staff.username)
        return ticket

    async def _assigned(self, ticket_id: int, staff: StaffUser) -> HandoffTicket:
        """The ticket, if `staff` holds it (a supervisor may act on any claimed ticket)."""
        async with self._db.begin() as session:
            ticket = await TicketRepository(session).get(ticket_id)
        if ticket is None or ticket.status is not TicketStatus.WITH_STAFF:
            raise NotAllowed("ticket is not with staff")
        if ticket.assigned_to != staff.id and staff.role.value != "supervisor":
            raise NotAllowed("ticket belongs to someone else")
        return ticket

    async def _send(self, ticket: HandoffTicket, staff: StaffUser, text: str) -> None:
        sender = f"staff:{staff.username}"
        await self._outbox.deliver(ticket.channel, ticket.external_id,
                                   [OutboundMessage(text=text)], sender=sender)
        await self._publish_message(ticket, "out", sender, text)

    # -- timeouts ----------------------------------------------------------------------------

    async def expire(self, now: datetime | None = None) -> list[HandoffTicket]:
        """Queued tickets nobody claimed in time become callback requests; say so honestly."""
        cutoff = (now or utcnow()) - self.timeout
        async with self._db.begin() as session:
            expired = await TicketRepository(session).expire_queued(cutoff)
            audit = AuditRepository(session)
            for ticket in expired:
                await audit.record(SYSTEM, "timeout", ticket=ticket)
        for ticket in expired:
            await self._state.set_route(_sender_key(ticket), Route(MESSAGE, ticket.id).encode())
            try:
                await self._outbox.deliver(ticket.channel, ticket.external_id,
                                           [OutboundMessage(text=say("timed_out"))])
            except Exception:
                log.exception("could not tell ticket %d about its timeout", ticket.id)
            await self._publish_ticket(ticket, "callback")
        return expired

    async def run_timeouts(self, stop: asyncio.Event, interval_s: float = 30.0) -> None:
        while not stop.is_set():
            try:
                await self.expire()
            except Exception:
                log.exception("handoff timeout run failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)

    # -- console events ---------------------------------------------------------------------

    async def _publish_ticket(self, ticket: HandoffTicket, event: str, **extra: Any) -> None:
        await self._state.publish(CONSOLE_TOPIC, {
            "type": "ticket", "event": event, "ticket": ticket.id, "team": ticket.team,
            "at": utcnow().isoformat(), **extra})

    async def _publish_message(self, ticket: HandoffTicket, direction: str, sender: str,
                               text: str) -> None:
        await self._state.publish(CONSOLE_TOPIC, {
            "type": "message", "ticket": ticket.id, "team": ticket.team,
            "direction": direction, "sender": sender, "text": text,
            "at": utcnow().astimezone(SHANGHAI).strftime("%H:%M:%S")})


def _actor(staff: StaffUser) -> Actor:
    return Actor(staff.id, staff.username)


def _sender_key(ticket: HandoffTicket) -> str:
    return f"{ticket.channel}:{ticket.external_id}"


async def load_staff(db: async_sessionmaker[AsyncSession], staff_id: int) -> StaffUser | None:
    async with db() as session:
        return await StaffRepository(session).get(staff_id)

"""The staff console's handlers: sign-in, queue, conversation, staff actions, live events.

Every route but the sign-in form refuses a request without a signed-in session (pages redirect
to the sign-in form, the API and the websocket answer 401), and every POST, every API read and
the websocket refuse a request without the session's CSRF token (403).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import WSMsgType, web
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.handoff import (
    Actor,
    AuditRepository,
    NoteRepository,
    StaffRepository,
    TicketRepository,
    is_locked,
)
from casedb.models import (
    ApplicationStatus,
    BookingStatus,
    HandoffTicket,
    StaffRole,
    StaffUser,
    TicketStatus,
)
from casedb.outbox import OutboxRepository
from casedb.repositories import (
    BookingRepository,
    LegalAidApplicationRepository,
    MessageLogRepository,
)
from connectors.base import OutboundMessage
from gateway.console import dashboard
from gateway.console.auth import (
    CSRF_HEADER,
    Session,
    Sessions,
    csrf_ok,
    fingerprint,
    new_session,
    revocation_key,
    verify_password,
)
from gateway.handoff import (
    CONSOLE_TOPIC,
    SHANGHAI,
    Handoff,
    NotAllowed,
    canned_replies,
    console_text,
    label,
    notify_text,
    team_name,
    teams,
)
from gateway.keys import db_key, handoff_key, outbox_key, router_key, state_key
from gateway.outbox import Outbox
from gateway.router import Router
from gateway.state import StateStore

log = logging.getLogger("gateway.console")

TEMPLATES = Path(__file__).parent / "templates"
MAX_REPLY_CHARS = 2000
SIGNED_OUT = "signed_out"  # console event: that session signed out (never sent to a browser)
WS_SIGNED_OUT = 4401  # websocket close code (4000-4999: the application's own)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _local(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _sender_label(sender: str, direction: str) -> str:
    if direction == "in":
        return "用户"
    if sender == "bot":
        return "智能助手"
    if sender.startswith("staff:"):
        return "工作人员 " + sender.removeprefix("staff:")
    return "系统"


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


class Console:
    _db: async_sessionmaker[AsyncSession]
    _state: StateStore
    _handoff: Handoff
    _outbox: Outbox
    _router: Router

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                                       autoescape=True, undefined=jinja2.StrictUndefined)
        self._env.filters["local"] = _local
        self._env.filters["team"] = team_name
        self._env.filters["status"] = lambda value: label("status_names", str(value))
        self._env.filters["card_label"] = lambda value: label("card_labels", str(value))
        self._env.filters["card_field"] = lambda value: label("card_fields", str(value))
        self._env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
        self._env.globals["sender_label"] = _sender_label

    def register(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/console", self.page(self.queue_page))
        r.add_get("/console/login", self.login_form)
        r.add_post("/console/login", self.login)
        r.add_post("/console/logout", self.action(self.logout))
        r.add_get("/console/tickets/{ticket}", self.page(self.ticket_page))
        for verb in ("claim", "reply", "note", "transfer", "close", "export", "erase"):
            r.add_post(f"/console/tickets/{{ticket}}/{verb}", self.action(getattr(self, verb)))
        r.add_get("/console/api/queue", self.api(self.queue_json))
        r.add_get("/console/dashboard", self.page(self.dashboard_page))
        r.add_post("/console/applications/{reference}/status",
                   self.action(self.application_status))
        r.add_post("/console/bookings/{code}/cancel", self.action(self.cancel_booking))
        r.add_get("/console/ws", self.websocket)
        app.on_startup.append(self._bind)  # runs after the app's resources are open

    async def _bind(self, app: web.Application) -> None:
        self._db = app[db_key]
        self._state = app[state_key]
        self._handoff = app[handoff_key]
        self._outbox = app[outbox_key]
        self._router = app[router_key]

    # -- who is asking ----------------------------------------------------------------------

    async def _staff(self, request: web.Request) -> tuple[StaffUser, Session]:
        session = self._sessions.read(request)
        if session is None or session.staff_id is None:
            raise Refused(401, "not signed in")
        if await self._signed_out(session):
            raise Refused(401, "signed out")
        async with self._db() as db:
            staff = await StaffRepository(db).get(session.staff_id)
        if (staff is None or not staff.active
                or session.fingerprint != fingerprint(staff.password_hash)):
            raise Refused(401, "session no longer valid")
        return staff, session

    async def _signed_out(self, session: Session) -> bool:
        """Whether the session was signed out. While the shared state is down this cannot be
        known and the session counts as valid: it is still signed, bound to the password and
        expires on its own, and staff can keep answering the people waiting for them."""
        try:
            return await self._state.seen(revocation_key(session))
        except RedisError as exc:
            log.warning("shared state unavailable, signed-out sessions not checked: %s", exc)
            return False

    async def _check_csrf(self, request: web.Request, session: Session) -> None:
        submitted = request.headers.get(CSRF_HEADER)
        if submitted is None and request.method == "POST":
            submitted = str((await request.post()).get("csrf") or "") or None
        if not csrf_ok(session, submitted):
            raise Refused(403, "missing or wrong CSRF token")

    def page(self, handler: Callable[[web.Request, StaffUser, Session],
                                     Awaitable[web.StreamResponse]]) -> Handler:
        """A GET page: anonymous visitors go to the sign-in form."""
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                staff, session = await self._staff(request)
            except Refused:
                raise web.HTTPSeeOther("/console/login") from None
            return await handler(request, staff, session)
        return wrapped

    def action(self, handler: Callable[[web.Request, StaffUser, Session],
                                       Awaitable[web.StreamResponse]]) -> Handler:
        """A POST: signed in and carrying the CSRF token, or refused."""
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                staff, session = await self._staff(request)
                await self._check_csrf(request, session)
            except Refused as exc:
                return web.json_response({"error": exc.reason}, status=exc.status)
            return await handler(request, staff, session)
        return wrapped

    api = action  # API reads need the token too (header), so a cross-site page reads nothing

    def _render(self, name: str, status: int = 200, **context: Any) -> web.Response:
        body = self._env.get_template(name).render(**context)
        return web.Response(text=body, status=status, content_type="text/html",
                            charset="utf-8", headers={"X-Frame-Options": "DENY",
                                                      "Cache-Control": "no-store"})

    # -- sign in and out --------------------------------------------------------------------

    async def login_form(self, request: web.Request, error: str | None = None,
                         status: int = 200) -> web.Response:
        session = self._sessions.read(request)
        if session is None or session.staff_id is not None:
            session = new_session()
        response = self._render("login.html", status=status, csrf=session.csrf, error=error)
        self._sessions.write(request, response, session)
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        session = self._sessions.read(request)
        form = await request.post()
        if session is None or not csrf_ok(session, str(form.get("csrf") or "")):
            return web.json_response({"error": "missing or wrong CSRF token"}, status=403)
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        async with self._db.begin() as db:
            staff_repo = StaffRepository(db)
            staff = await staff_repo.by_name(username) if username else None
            if staff is not None and is_locked(staff):
                verify_password(None, password)  # same cost as any other attempt
                log.warning("console login refused: %s is locked", username)
                return await self.login_form(request, console_text("locked"), status=429)
            ok = verify_password(staff.password_hash if staff and staff.active else None,
                                 password)
            if not ok or staff is None:
                if staff is not None:
                    await staff_repo.login_failed(staff)
                log.warning("console login failed for %r", username)
                return await self.login_form(request, console_text("bad_login"), status=401)
            await staff_repo.login_succeeded(staff)
            await AuditRepository(db).record(_actor(staff), "login")
        response = web.HTTPSeeOther("/console")
        self._sessions.write(request, response, new_session(staff.id, staff.password_hash))
        raise response

    async def logout(self, request: web.Request, staff: StaffUser,
                     session: Session) -> web.StreamResponse:
        async with self._db.begin() as db:
            await AuditRepository(db).record(_actor(staff), "logout")
        key = revocation_key(session)
        try:
            await self._state.first_seen(key, self._sessions.ttl)
            # The session's live-event sockets close too, on whichever replica they are.
            await self._state.publish(CONSOLE_TOPIC, {"type": SIGNED_OUT, "session": key})
        except RedisError as exc:  # the browser still forgets the cookie
            log.warning("shared state unavailable, session not revoked on the server: %s", exc)
        response = web.HTTPSeeOther("/console/login")
        self._sessions.clear(response)
        raise response

    # -- pages ------------------------------------------------------------------------------

    def _teams_of(self, staff: StaffUser) -> tuple[str, ...] | None:
        return None if staff.role is StaffRole.SUPERVISOR else (staff.team,)

    async def _queue_data(self, staff: StaffUser) -> dict[str, Any]:
        async with self._db() as db:
            tickets = TicketRepository(db)
            queued = await tickets.queue(self._teams_of(staff))
            mine = await tickets.assigned_to(staff.id)
            callbacks = await tickets.callbacks(self._teams_of(staff))
            # Replies a platform never accepted (after every retry): staff follow them up.
            failed = await OutboxRepository(db).failed(limit=20) \
                if staff.role is StaffRole.SUPERVISOR else []
        return {"queued": queued, "mine": mine, "callbacks": callbacks, "failed": failed}

    async def queue_page(self, request: web.Request, staff: StaffUser,
                         session: Session) -> web.StreamResponse:
        data = await self._queue_data(staff)
        return self._render("queue.html", staff=staff, csrf=session.csrf, **data)

    async def queue_json(self, request: web.Request, staff: StaffUser,
                         session: Session) -> web.StreamResponse:
        data = await self._queue_data(staff)
        return web.json_response({key: [_ticket_json(t) for t in rows]
                                  for key, rows in data.items() if key != "failed"},
                                 dumps=lambda d: json.dumps(d, ensure_ascii=False))

    def _may_see(self, staff: StaffUser, ticket: HandoffTicket) -> bool:
        return (staff.role is StaffRole.SUPERVISOR or ticket.team == staff.team
                or ticket.assigned_to == staff.id)

    async def _ticket(self, request: web.Request, staff: StaffUser) -> HandoffTicket:
        try:
            ticket_id = int(request.match_info["ticket"])
        except ValueError:
            raise web.HTTPNotFound() from None
        async with self._db() as db:
            ticket = await TicketRepository(db).get(ticket_id)
        if ticket is None or not self._may_see(staff, ticket):
            raise web.HTTPNotFound()
        return ticket

    async def ticket_page(self, request: web.Request, staff: StaffUser,
                          session: Session) -> web.StreamResponse:
        ticket = await self._ticket(request, staff)
        async with self._db() as db:
            messages = await MessageLogRepository(db).for_conversation(ticket.conversation_id,
                                                                       limit=1000)
            notes = await NoteRepository(db).for_ticket(ticket.id)
            people = await StaffRepository(db).all()
            assignee = await StaffRepository(db).get(ticket.assigned_to) \
                if ticket.assigned_to else None
        names = {p.id: p.username for p in people}
        return self._render(
            "ticket.html", staff=staff, csrf=session.csrf, ticket=ticket, messages=messages,
            notes=notes, names=names, people=[p for p in people if p.id != staff.id],
            teams=teams(), canned=canned_replies(), assignee=assignee,
            mine=(ticket.status is TicketStatus.WITH_STAFF
                  and (ticket.assigned_to == staff.id
                       or staff.role is StaffRole.SUPERVISOR)),
            card=ticket.case_card or {},
            application_statuses={status.value: notify_text(f"application_status.{status.value}")
                                  for status in ApplicationStatus})

    # -- staff actions ----------------------------------------------------------------------

    def _done(self, request: web.Request, ticket_id: int,
              **payload: Any) -> web.StreamResponse:
        if _wants_json(request):
            return web.json_response({"ok": True, "ticket": ticket_id, **payload})
        raise web.HTTPSeeOther(f"/console/tickets/{ticket_id}")

    def _refused(self, request: web.Request, status: int, error: str,
                 message: str) -> web.StreamResponse:
        if _wants_json(request):
            return web.json_response({"ok": False, "error": error, "message": message},
                                     status=status)
        return self._render("notice.html", status=status, message=message)

    async def claim(self, request: web.Request, staff: StaffUser,
                    session: Session) -> web.StreamResponse:
        ticket = await self._ticket(request, staff)
        claimed = await self._handoff.claim(ticket.id, staff)
        if claimed is None:
            return self._refused(request, 409, "taken", console_text("taken"))
        return self._done(request, ticket.id)

    async def reply(self, request: web.Request, staff: StaffUser,
                    session: Session) -> web.StreamResponse:
        ticket = await self._ticket(request, staff)
        text = str((await request.post()).get("text") or "").strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            return self._refused(request, 400, "bad_text",
                                 console_text("bad_text"))
        try:
            await self._handoff.reply(ticket.id, staff, text)
        except NotAllowed:
            return self._refused(request, 409, "not_yours", console_text("not_yours"))
        return self._done(request, ticket.id)

    async def note(self, request: web.Request, staff: StaffUser,
                   session: Session) -> web.StreamResponse:
        ticket = await self._ticket(request, staff)
        text = str((await request.post()).get("text") or "").strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            return self._refused(request, 400, "bad_text", console_text("bad_text"))
        await self._handoff.note(ticket.id, staff, text)
        return self._done(request, ticket.id)

    async def transfer(self, request: web.Request, staff: StaffUser,
                       session: Session) -> web.StreamResponse:
        ticket = await self._ticket(request, staff)
        form = await request.post()
        team = str(form.get("team") or "") or None
        to_name = str(form.get("staff") or "") or None
        to_staff = None
        if to_name is not None:
            async with self._db() as db:
                to_staff = await StaffRepository(db).by_name(to_name)
            if to_staff is None:
                return self._refused(request, 400, "unknown_staff", console_text("unknown_staff"))
        if team is None and to_staff is None:
            return self._refused(request, 400, "no_target", console_text("no_target"))
        try:
            await self._handoff.transfer(ticket.id, staff, team=team, to_staff=to_staff)
        except NotAllowed:
            return self._refused(request, 409, "not_allowed", console_text("not_allowed"))
        return self._done(request, ticket.id)

    async def close(self, request: web.Request, staff: StaffUser,
                    session: Session) -> web.StreamResponse:
        ticket = await self._ticket(request, staff)
        try:
            await self._handoff.close(ticket.id, staff)
        except NotAllowed:
            return self._refused(request, 409, "not_allowed", console_text("not_allowed"))
        return self._done(request, ticket.id)

    async def export(self, request: web.Request, staff: StaffUser,
                     session: Session) -> web.StreamResponse:
        """The ticket's case card, notes and full transcript as a JSON download (audited)."""
        ticket = await self._ticket(request, staff)
        async with self._db.begin() as db:
            messages = await MessageLogRepository(db).for_conversation(
                ticket.conversation_id, limit=100_000)
            notes = await NoteRepository(db).for_ticket(ticket.id)
            await AuditRepository(db).record(_actor(staff), "export", ticket=ticket,
                                             detail={"messages": len(messages)})
        body = {
            "ticket": _ticket_json(ticket), "case_card": ticket.case_card or {},
            "notes": [{"at": _local(n.created_at), "staff_id": n.staff_id, "text": n.text}
                      for n in notes],
            "transcript": [{"at": _local(m.created_at), "direction": m.direction.value,
                            "sender": m.sender_id, "text": m.text, "payload": m.payload}
                           for m in messages],
        }
        return web.Response(
            text=json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json",
            charset="utf-8", headers={
                "Content-Disposition": f'attachment; filename="ticket-{ticket.id}.json"',
                "Cache-Control": "no-store"})

    async def erase(self, request: web.Request, staff: StaffUser,
                    session: Session) -> web.StreamResponse:
        """A supervisor deletes the person's data (个人信息保护法: on request by other means
        than the chat): conversation, message log, tickets, pre-applications, bookings and
        the Rasa tracker. The audit entry keeps who did it and when, not the data."""
        if staff.role is not StaffRole.SUPERVISOR:
            return self._refused(request, 403, "supervisors_only",
                                 console_text("supervisors_only"))
        ticket = await self._ticket(request, staff)
        deleted = await self._router.erase(ticket.channel, ticket.external_id)
        await self._state.set_route(f"{ticket.channel}:{ticket.external_id}", None)
        async with self._db.begin() as db:
            await AuditRepository(db).record(_actor(staff), "erase", detail={
                "ticket": ticket.id, "channel": ticket.channel})
        if _wants_json(request):
            return web.json_response({"ok": True, "erased": deleted})
        raise web.HTTPSeeOther("/console")  # the ticket page is gone with the data

    # -- supervisors, pre-applications and bookings --------------------------------------

    async def dashboard_page(self, request: web.Request, staff: StaffUser,
                             session: Session) -> web.StreamResponse:
        if staff.role is not StaffRole.SUPERVISOR:
            return self._render("notice.html", status=403, staff=staff, csrf=session.csrf,
                                message=console_text("supervisors_only"))
        async with self._db() as db:
            board = await dashboard.build(db, datetime.now(SHANGHAI).date())
        return self._render("dashboard.html", staff=staff, csrf=session.csrf,
                            days=board.days, charts=board.charts, totals=board.totals)

    async def application_status(self, request: web.Request, staff: StaffUser,
                                 session: Session) -> web.StreamResponse:
        reference = request.match_info["reference"].upper()
        raw = str((await request.post()).get("status") or "")
        if staff.role is not StaffRole.SUPERVISOR and staff.team != "legal_aid":
            return self._refused(request, 403, "not_allowed", console_text("not_allowed"))
        try:
            status = ApplicationStatus(raw)
        except ValueError:
            return self._refused(request, 400, "bad_status", console_text("not_allowed"))
        async with self._db.begin() as db:
            application = await LegalAidApplicationRepository(db).get(reference)
            if application is None:
                raise web.HTTPNotFound()
            previous = application.status
            application.status = status
            await AuditRepository(db).record(
                _actor(staff), "application_status",
                detail={"reference": reference, "from": previous.value, "to": status.value})
        if previous is not status:
            await self._outbox.deliver(application.channel, application.external_id, [
                OutboundMessage(text=notify_text("application", reference=reference,
                                                 status=notify_text(
                                                     f"application_status.{status.value}")))])
        return self._back(request, reference=reference, status=status.value)

    async def cancel_booking(self, request: web.Request, staff: StaffUser,
                             session: Session) -> web.StreamResponse:
        code = request.match_info["code"].upper()
        async with self._db.begin() as db:
            bookings = BookingRepository(db)
            booking = await bookings.get(code)
            if booking is None:
                raise web.HTTPNotFound()
            was_booked = booking.status is BookingStatus.BOOKED
            await bookings.cancel(booking)
            await AuditRepository(db).record(_actor(staff), "booking_cancel",
                                             detail={"code": code})
        if was_booked:
            when = booking.slot_start.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")
            await self._outbox.deliver(booking.channel, booking.external_id, [
                OutboundMessage(text=notify_text("booking_cancelled", code=code, when=when))])
        return self._back(request, code=code, status=BookingStatus.CANCELLED.value)

    def _back(self, request: web.Request, **payload: Any) -> web.StreamResponse:
        if _wants_json(request):
            return web.json_response({"ok": True, **payload})
        raise web.HTTPSeeOther(request.headers.get("Referer") or "/console")

    # -- live events ------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        try:
            staff, session = await self._staff(request)
        except Refused as exc:
            return web.json_response({"error": exc.reason}, status=exc.status)
        if not csrf_ok(session, request.query.get("csrf")):
            return web.json_response({"error": "missing or wrong CSRF token"}, status=403)
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            return web.json_response({"error": "cross-site websocket"}, status=403)
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        visible = self._teams_of(staff)
        async with self._state.subscribe(CONSOLE_TOPIC) as events:
            forward = asyncio.create_task(
                self._forward(events, ws, visible, staff, revocation_key(session)))
            try:
                async for msg in ws:
                    if msg.type == WSMsgType.ERROR:
                        break
            finally:
                forward.cancel()
                await asyncio.gather(forward, return_exceptions=True)
        return ws

    @staticmethod
    async def _forward(events: Any, ws: web.WebSocketResponse, visible: tuple[str, ...] | None,
                       staff: StaffUser, session_key: str) -> None:
        async for event in events:
            if event.get("type") == SIGNED_OUT:
                if event.get("session") == session_key:
                    await ws.close(code=WS_SIGNED_OUT, message=b"signed out")
                    return
                continue
            if visible is None or event.get("team") in visible or event.get("staff") == \
                    staff.username:
                await ws.send_json(event, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _ticket_json(ticket: HandoffTicket) -> dict[str, Any]:
    return {"id": ticket.id, "team": ticket.team, "team_name": team_name(ticket.team),
            "reason": ticket.reason, "kind": ticket.kind, "status": ticket.status.value,
            "channel": ticket.channel, "created_at": _local(ticket.created_at),
            "assigned_to": ticket.assigned_to}


def _actor(staff: StaffUser) -> Actor:
    return Actor(staff.id, staff.username)

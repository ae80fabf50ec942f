"""Supervisors' dashboard; staff change a pre-application's or a booking's status and the
person is told on their channel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from casedb.handoff import TicketRepository
from casedb.models import (
    ApplicationStatus,
    AuditLog,
    BookingStatus,
    Conversation,
    HandoffTicket,
    MessageLog,
    StaffRole,
)
from casedb.repositories import (
    BookingRepository,
    ConversationRepository,
    LegalAidApplicationRepository,
)
from tests.conftest import Database, FakeRasa, GatewayFactory
from tests.gateway.console.helpers import (
    add_staff,
    handing_off_bot,
    open_hours,
    say,
    sign_in,
    web_session,
)


async def _application(db: Database, session_id: str) -> str:
    async with db.sessions.begin() as session:
        application = await LegalAidApplicationRepository(session).create(
            channel="web", external_id=session_id, phone="13912345678", district="武进区",
            inputs={"matter_type": "labour_remuneration"}, outcome="likely_eligible",
            rules_used=["law-2021"])
        return application.reference


async def test_a_status_change_is_audited_and_the_person_is_told(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(database)
    session_id, token = await web_session(client)
    reference = await _application(database, session_id)
    widget = await client.ws_connect(f"/channels/web/ws?token={token}")
    await add_staff(database, "wang")
    await add_staff(database, "zhao", team="notary")
    csrf = await sign_in(client, "wang")

    resp = await client.post(f"/console/applications/{reference}/status",
                             data={"csrf": csrf, "status": "granted"},
                             headers={"Accept": "application/json"})
    assert resp.status == 200, await resp.text()
    pushed = await asyncio.wait_for(widget.receive_json(), 5)
    assert reference in pushed["messages"][0]["text"]
    assert "给予法律援助" in pushed["messages"][0]["text"]
    async with database.sessions() as session:
        application = await LegalAidApplicationRepository(session).get(reference)
        audit = (await session.execute(select(AuditLog).where(
            AuditLog.action == "application_status"))).scalar_one()
    assert application is not None and application.status is ApplicationStatus.GRANTED
    assert audit.staff_name == "wang" and audit.detail == {
        "reference": reference, "from": "submitted", "to": "granted"}

    bad = await client.post(f"/console/applications/{reference}/status",
                            data={"csrf": csrf, "status": "approved!"},
                            headers={"Accept": "application/json"})
    assert bad.status == 400
    notary = await gateway(database)
    notary_csrf = await sign_in(notary, "zhao")
    refused = await notary.post(f"/console/applications/{reference}/status",
                                data={"csrf": notary_csrf, "status": "refused"},
                                headers={"Accept": "application/json"})
    assert refused.status == 403  # not the legal aid team
    await widget.close()


async def test_staff_cancel_a_booking_and_the_seat_is_freed(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    session_id, token = await web_session(client)
    start = datetime(2026, 12, 9, 1, 0, tzinfo=UTC)
    async with sqlite_database.sessions.begin() as session:
        booking = await BookingRepository(session).book(
            contact_point_code="CP-WJ-01", slot_start=start, capacity=1, phone="13912345678",
            channel="web", external_id=session_id, topic="labour")
        assert booking is not None
        code = booking.code
    widget = await client.ws_connect(f"/channels/web/ws?token={token}")
    await add_staff(sqlite_database, "wang")
    csrf = await sign_in(client, "wang")
    resp = await client.post(f"/console/bookings/{code}/cancel", data={"csrf": csrf},
                             headers={"Accept": "application/json"})
    assert resp.status == 200
    pushed = await asyncio.wait_for(widget.receive_json(), 5)
    assert code in pushed["messages"][0]["text"] and "12月09日 09:00" in \
        pushed["messages"][0]["text"]
    async with sqlite_database.sessions() as session:
        cancelled = await BookingRepository(session).get(code)
    assert cancelled is not None and cancelled.status is BookingStatus.CANCELLED
    assert cancelled.seat is None
    await widget.close()


async def test_the_dashboard_is_for_supervisors_and_charts_the_days(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(database)
    _, token = await web_session(client)
    await client.post("/channels/web/messages", json={"text": "你好"},
                      headers={"Authorization": f"Bearer {token}"})
    async with database.sessions.begin() as session:
        conversation = await ConversationRepository(session).get_or_create("web", "someone")
        ticket = await TicketRepository(session).create(conversation, team="legal_aid",
                                                        reason="request_human")
        ticket.claimed_at = ticket.created_at + timedelta(minutes=4)
        ticket.rating = 4
    await add_staff(database, "wang")
    await add_staff(database, "boss", role=StaffRole.SUPERVISOR)
    await sign_in(client, "wang")
    assert (await client.get("/console/dashboard")).status == 403
    boss = await gateway(database)
    await sign_in(boss, "boss")
    page = await boss.get("/console/dashboard")
    html = await page.text()
    assert page.status == 200
    assert html.count("<svg") == 6
    assert "对话 1 个" in html and "转人工 1 次" in html
    assert "平均等待 4.0 分钟" in html and "平均满意度 4.0 分" in html


async def test_an_export_is_audited_and_a_supervisor_erases_the_person(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(database)
    handing_off_bot(fake_rasa)
    open_hours(client)
    session_id, token = await web_session(client)
    await say(client, token, "我叫王小明,电话13912345678")
    await say(client, token, "转人工")
    async with database.sessions() as session:
        ticket_id = (await session.execute(select(HandoffTicket.id))).scalar_one()
    await add_staff(database, "wang")
    await add_staff(database, "boss", role=StaffRole.SUPERVISOR)
    csrf = await sign_in(client, "wang")

    resp = await client.post(f"/console/tickets/{ticket_id}/export", data={"csrf": csrf})
    assert resp.status == 200
    assert resp.headers["Content-Disposition"] == f'attachment; filename="ticket-{ticket_id}.json"'
    exported = await resp.json()
    assert [m["text"] for m in exported["transcript"] if m["direction"] == "in"] == [
        "我叫王小明,电话13912345678", "转人工"]
    refused = await client.post(f"/console/tickets/{ticket_id}/erase", data={"csrf": csrf},
                                headers={"Accept": "application/json"})
    assert refused.status == 403  # supervisors only

    boss = await gateway(database)
    boss_csrf = await sign_in(boss, "boss")
    resp = await boss.post(f"/console/tickets/{ticket_id}/erase", data={"csrf": boss_csrf},
                           headers={"Accept": "application/json"})
    assert resp.status == 200 and (await resp.json())["erased"] >= 4
    async with database.sessions() as session:
        assert (await session.execute(select(Conversation))).first() is None
        assert (await session.execute(select(MessageLog))).first() is None
        assert (await session.execute(select(HandoffTicket))).first() is None
        audit = (await session.execute(select(AuditLog.staff_name, AuditLog.action,
                                              AuditLog.detail).order_by(AuditLog.id))).all()
    assert [(name, action) for name, action, _ in audit if action != "login"] == [
        ("wang", "export"), ("boss", "erase")]
    assert "13912345678" not in str(audit) and "王小明" not in str(audit)
    assert fake_rasa.erased == [f"web:{session_id}"]
    # The person is no longer queued: the bot answers again.
    assert (await say(client, token, "你好"))[0]["text"] == "收到:你好"


async def test_supervisors_see_replies_that_never_reached_the_person(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    from casedb.outbox import OutboxRepository

    client = await gateway(sqlite_database)
    now = datetime.now(UTC)
    async with sqlite_database.sessions.begin() as session:
        conversation = await ConversationRepository(session).get_or_create("wecom", "zhangsan")
        row = await OutboxRepository(session).add(conversation, [{"text": "您好"}],
                                                  claim_until=now)
        await OutboxRepository(session).mark_attempt_failed(
            row.id, "HTTP 500 from the platform", at=now, retry_at=None)
    await add_staff(sqlite_database, "wang")
    await add_staff(sqlite_database, "boss", role=StaffRole.SUPERVISOR)
    await sign_in(client, "wang")
    assert "HTTP 500 from the platform" not in await (await client.get("/console")).text()
    boss = await gateway(sqlite_database)
    await sign_in(boss, "boss")
    page = await (await boss.get("/console")).text()
    assert "发送失败的消息" in page and "wecom" in page and "HTTP 500 from the platform" in page

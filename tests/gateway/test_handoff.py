"""The routing state machine: bot → queued → with staff → bot, through the real gateway app."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from casedb.models import AuditLog, HandoffTicket, TicketStatus
from connectors.base import InboundMessage
from domain.booking.calendar import default_calendar
from gateway.handoff import Route, WorkingHours, is_cancel, parse_rating
from gateway.keys import handoff_key, state_key
from tests.conftest import Database, FakeRasa, GatewayFactory
from tests.gateway.console.helpers import (
    CASE_CARD,
    NeverOpen,
    handing_off_bot,
    open_hours,
    say,
    web_session,
)


def _inbound(text: str | None = None, payload: str | None = None) -> InboundMessage:
    return InboundMessage(channel="web", conversation_id="c", sender_id="c", message_id=None,
                          text=text, payload=payload)


async def _tickets(db: Database) -> list[HandoffTicket]:
    async with db.sessions() as session:
        return list((await session.execute(select(HandoffTicket))).scalars())


async def test_a_handoff_queues_the_conversation_and_keeps_the_bot_out(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    handing_off_bot(fake_rasa)
    client = await gateway(database)
    open_hours(client)
    session_id, token = await web_session(client)

    replies = await say(client, token, "转人工")
    texts = [m.get("text", "") for m in replies]
    assert texts[0] == "好的,正在为您转接人工服务。"
    assert "排在第1位" in texts[1] and "取消人工" in texts[1]
    assert not any("custom" in m for m in replies)  # the payload never reaches the person
    [ticket] = await _tickets(database)
    assert (ticket.status, ticket.team, ticket.case_card) == (
        TicketStatus.QUEUED, "legal_aid", CASE_CARD)
    assert await client.app[state_key].get_route(f"web:{session_id}") == f"queued:{ticket.id}"

    sent_to_rasa = len(fake_rasa.received)
    replies = await say(client, token, "有人吗?")
    assert "排在第1位" in replies[0]["text"]
    assert len(fake_rasa.received) == sent_to_rasa  # queued: the bot never sees it

    replies = await say(client, token, "取消人工")
    assert "已取消人工服务" in replies[0]["text"]
    assert (await _tickets(database))[0].status is TicketStatus.CANCELLED
    await say(client, token, "你好")
    assert fake_rasa.received[-1]["message"] == "你好"  # back with the bot


async def test_a_second_handoff_while_queued_reuses_the_ticket_and_counts_places(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    handing_off_bot(fake_rasa)
    client = await gateway(database)
    open_hours(client)
    _, first = await web_session(client)
    _, second = await web_session(client)
    await say(client, first, "转人工")
    replies = await say(client, second, "转人工")
    assert "排在第2位" in replies[-1]["text"]
    assert len(await _tickets(database)) == 2


async def test_outside_working_hours_the_person_leaves_a_message(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    handing_off_bot(fake_rasa)
    client = await gateway(database)
    open_hours(client, NeverOpen())
    _, token = await web_session(client)
    replies = await say(client, token, "转人工")
    assert "非工作时间" in replies[-1]["text"] and "12348" in replies[-1]["text"]
    [ticket] = await _tickets(database)
    assert ticket.status is TicketStatus.CALLBACK
    sent_to_rasa = len(fake_rasa.received)
    replies = await say(client, token, "我的电话是13912345678,工资被拖欠了")
    assert "留言已记录" in replies[0]["text"]
    assert len(fake_rasa.received) == sent_to_rasa


async def test_a_timeout_turns_the_ticket_into_a_callback_and_says_so_honestly(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    handing_off_bot(fake_rasa)
    client = await gateway(database)
    open_hours(client)
    session_id, token = await web_session(client)
    ws = await client.ws_connect(f"/channels/web/ws?token={token}")
    await say(client, token, "转人工")
    handoff = client.app[handoff_key]

    assert await handoff.expire() == []  # not yet
    expired = await handoff.expire(datetime.now(UTC) + handoff.timeout + timedelta(seconds=1))
    assert [t.status for t in expired] == [TicketStatus.CALLBACK]
    pushed = await asyncio.wait_for(ws.receive_json(), 5)
    assert "12348" in pushed["messages"][0]["text"] and "回电" in pushed["messages"][0]["text"]
    assert await client.app[state_key].get_route(f"web:{session_id}") == \
        f"message:{expired[0].id}"
    async with database.sessions() as session:
        actions = list((await session.execute(select(AuditLog.action))).scalars())
    assert actions == ["timeout"]
    await ws.close()


def test_rating_and_cancel_parsing() -> None:
    assert parse_rating(_inbound(payload='/rate_handoff{"score":4}')) == 4
    assert parse_rating(_inbound(text="5")) == 5
    assert parse_rating(_inbound(text="非常不满意")) == 1
    assert parse_rating(_inbound(text="6")) is None
    assert parse_rating(_inbound(payload="/greet")) is None
    assert is_cancel(_inbound(text="取消人工。"))
    assert not is_cancel(_inbound(text="我不想取消"))


def test_routes_round_trip() -> None:
    assert Route.decode(Route("staff", 12).encode()) == Route("staff", 12)
    assert Route.decode(None) is None and Route.decode("garbage") is None


def test_working_hours_follow_the_calendar_and_the_periods() -> None:
    hours = WorkingHours(["09:00-12:00", "13:30-17:30"], default_calendar())
    shanghai = timedelta(hours=8)
    # Monday 2026-11-30 10:00 Shanghai = 02:00 UTC: open; 12:30 lunch: closed.
    assert hours.is_open(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 11, 30, 12, 30, tzinfo=UTC) - shanghai)
    # Saturday 2026-11-28: closed; National Day 2026-10-01 (a Thursday): closed.
    assert not hours.is_open(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 10, 1, 2, 0, tzinfo=UTC))



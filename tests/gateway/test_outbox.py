from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from casedb.models import Conversation, Direction, MessageLog, OutboxMessage, OutboxStatus
from casedb.outbox import OutboxRepository
from connectors import tokens
from connectors.base import OutboundMessage
from connectors.wecom import WeComChannel, WeComSettings
from connectors.wxcrypt import WXBizMsgCrypt
from gateway.keys import outbox_key
from gateway.outbox import UnknownChannel, backoff
from tests.conftest import Client, Database, FakeRasa, GatewayFactory
from tests.connectors.fakes import (
    FakeWeCom,
    serve,
    start_gateway,
    wecom_text_xml,
    wx_encrypted_callback,
)


async def test_a_delivered_message_is_logged_and_pushed(
        gateway: GatewayFactory, database: Database) -> None:
    client = await gateway(database)
    session = await (await client.post("/channels/web/sessions")).json()
    async with client.ws_connect("/channels/web/ws", params={"token": session["token"]}) as ws:
        await asyncio.sleep(0.05)
        await client.app[outbox_key].deliver(
            "web", session["session_id"], [OutboundMessage(text="明天上午9点的咨询别忘了。")])
        pushed = await asyncio.wait_for(ws.receive_json(), 2)
    assert pushed == {"messages": [{"text": "明天上午9点的咨询别忘了。"}]}
    async with database.sessions() as db:
        row = (await db.execute(select(MessageLog).join(Conversation).where(
            Conversation.external_id == session["session_id"]))).scalar_one()
    assert (row.direction, row.sender_id, row.text) == (
        Direction.OUTBOUND, "system", "明天上午9点的咨询别忘了。")


async def test_an_unmounted_channel_is_refused_before_anything_is_logged(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database, reminders_enabled=False)
    with pytest.raises(UnknownChannel):
        await client.app[outbox_key].deliver("wecom", "u1", [OutboundMessage(text="x")])
    async with sqlite_database.sessions() as db:
        assert (await db.execute(select(MessageLog))).first() is None


# -- every outbound platform message is an outbox row, retried until accepted (issue 10) ---


CORP, TOKEN, AES = "ww-corp", "tok", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
REFUSED = {"errcode": 45009, "errmsg": "api freq out of limit"}  # not retried by the API client


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.001)


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeCom]:
    async with serve(FakeWeCom(corp_id=CORP)) as fake:
        yield fake


async def _wecom_gateway(aiohttp_client: Any, db: Database, fake_rasa: FakeRasa,
                         fake: FakeWeCom, **overrides: Any) -> tuple[Client, WeComChannel]:
    settings = WeComSettings.from_env({
        "WECOM_CORP_ID": CORP, "WECOM_AGENT_ID": "1", "WECOM_SECRET": "app-secret",
        "WECOM_TOKEN": TOKEN, "WECOM_ENCODING_AES_KEY": AES, "WECOM_API_BASE": fake.url})
    assert settings is not None
    channel = WeComChannel(settings)
    client = await start_gateway(aiohttp_client, db, fake_rasa, channel, **overrides)
    return client, channel


async def _post(client: Client, text: str, msg_id: str) -> int:
    query, body = wx_encrypted_callback(
        WXBizMsgCrypt(TOKEN, AES, CORP), wecom_text_xml("lisi", text, msg_id, corp_id=CORP),
        to_user=CORP)
    return (await client.post(f"/channels/wecom/callback?{query}", data=body)).status


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
                     ).scalars())


async def test_a_bot_reply_is_an_outbox_row_marked_sent(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom) -> None:
    client, channel = await _wecom_gateway(aiohttp_client, database, fake_rasa, fake_wecom)
    assert await _post(client, "你好", "m1") == 200
    await channel.drain()
    [row] = await _rows(database)
    assert (row.status, row.attempts, row.messages) == (OutboxStatus.SENT, 1,
                                                        [{"text": "收到:你好"}])
    assert [s["text"]["content"] for s in fake_wecom.sent] == ["收到:你好"]


async def test_a_refused_reply_is_retried_with_backoff_until_the_platform_accepts_it(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom) -> None:
    client, channel = await _wecom_gateway(aiohttp_client, database, fake_rasa, fake_wecom,
                                           reminders_enabled=False, outbox_interval=3600)
    outbox = client.app[outbox_key]
    clock = Clock()
    outbox.clock = clock
    fake_wecom.fail_next = [REFUSED, REFUSED]
    assert await _post(client, "你好", "m1") == 200
    await channel.drain()
    [row] = await _rows(database)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "45009" in (row.last_error or "") and fake_wecom.sent == []

    assert await outbox.run_once() == 0  # not due yet: the first retry waits 5 s
    clock.now += backoff(1)
    assert await outbox.run_once() == 0  # refused again; now it waits 10 s
    [row] = await _rows(database)
    assert row.attempts == 2 and row.next_attempt_at == clock.now + backoff(2)
    clock.now += backoff(2)
    assert await outbox.run_once() == 1
    [row] = await _rows(database)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 3, None)
    assert [s["text"]["content"] for s in fake_wecom.sent] == ["收到:你好"]
    assert await outbox.run_once() == 0  # sent once only


async def test_a_reply_that_never_gets_through_is_recorded_as_failed_for_staff(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom) -> None:
    client, channel = await _wecom_gateway(aiohttp_client, sqlite_database, fake_rasa,
                                           fake_wecom, reminders_enabled=False,
                                           outbox_interval=3600, outbox_max_attempts=3)
    outbox = client.app[outbox_key]
    clock = Clock()
    outbox.clock = clock
    fake_wecom.fail_next = [REFUSED] * 10
    assert await _post(client, "你好", "m1") == 200
    await channel.drain()
    for _ in range(3):
        clock.now += timedelta(hours=2)
        await outbox.run_once()
    async with sqlite_database.sessions() as session:
        [failed] = await OutboxRepository(session).failed()
    assert (failed.status, failed.attempts, failed.external_id) == (OutboxStatus.FAILED, 3,
                                                                    "lisi")
    assert failed.failed_at is not None and "45009" in (failed.last_error or "")
    assert fake_wecom.send_attempts == 3


async def test_staff_and_reminder_deliveries_do_not_raise_when_the_platform_refuses(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom) -> None:
    client, _ = await _wecom_gateway(aiohttp_client, sqlite_database, fake_rasa, fake_wecom,
                                     reminders_enabled=False, outbox_interval=3600)
    fake_wecom.fail_next = [REFUSED]
    await client.app[outbox_key].deliver(
        "wecom", "lisi", [OutboundMessage(text="您好,我是工作人员")], sender="staff:wang")
    [row] = await _rows(sqlite_database)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    async with sqlite_database.sessions() as session:
        [logged] = (await session.execute(select(MessageLog))).scalars()
    assert (logged.sender_id, logged.text) == ("staff:wang", "您好,我是工作人员")


async def test_the_gateway_retries_in_the_background(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom) -> None:
    client, channel = await _wecom_gateway(aiohttp_client, sqlite_database, fake_rasa,
                                           fake_wecom, reminders_enabled=False,
                                           outbox_interval=0.05)
    client.app[outbox_key].first_retry = 0.05
    fake_wecom.fail_next = [REFUSED]
    assert await _post(client, "你好", "m1") == 200
    await channel.drain()
    for _ in range(100):
        if fake_wecom.sent:
            break
        await asyncio.sleep(0.05)
    assert [s["text"]["content"] for s in fake_wecom.sent] == ["收到:你好"]

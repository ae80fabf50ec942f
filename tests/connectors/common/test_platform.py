"""Nothing lost: a platform message is in the message log before the platform gets its answer,
and a message that cannot be stored gets a retryable answer (issue 10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from casedb.engine import create_engine, session_factory
from casedb.models import Conversation, Direction, MessageLog
from connectors import tokens
from connectors.base import InboundMessage
from connectors.wecom import WeComChannel, WeComSettings
from connectors.wxcrypt import WXBizMsgCrypt
from gateway.keys import router_key
from tests.conftest import Client, Database, FakeRasa, GatewayFactory
from tests.connectors.fakes import (
    FakeWeCom,
    serve,
    start_gateway,
    wecom_text_xml,
    wx_encrypted_callback,
)

CORP, TOKEN, AES = "ww-corp", "tok", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CLOSED_PORT_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/none"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.001)


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeCom]:
    async with serve(FakeWeCom(corp_id=CORP)) as fake:
        yield fake


@pytest.fixture
async def down_database() -> AsyncIterator[Database]:
    """A database nobody answers for (PostgreSQL down)."""
    engine = create_engine(CLOSED_PORT_URL)
    yield Database(CLOSED_PORT_URL, engine, session_factory(engine))
    await engine.dispose()


def channel_for(fake: FakeWeCom) -> WeComChannel:
    settings = WeComSettings.from_env({
        "WECOM_CORP_ID": CORP, "WECOM_AGENT_ID": "1", "WECOM_SECRET": "app-secret",
        "WECOM_TOKEN": TOKEN, "WECOM_ENCODING_AES_KEY": AES, "WECOM_API_BASE": fake.url})
    assert settings is not None
    return WeComChannel(settings)


async def post(client: Client, text: str, msg_id: str) -> tuple[int, str | None]:
    query, body = wx_encrypted_callback(
        WXBizMsgCrypt(TOKEN, AES, CORP), wecom_text_xml("wangwu", text, msg_id, corp_id=CORP),
        to_user=CORP)
    resp = await client.post(f"/channels/wecom/callback?{query}", data=body)
    return resp.status, resp.headers.get("Retry-After")


async def inbound(db: Database) -> list[str | None]:
    async with db.sessions() as session:
        return list((await session.execute(select(MessageLog.text).where(
            MessageLog.direction == Direction.INBOUND))).scalars())


async def test_the_message_is_stored_before_the_platform_is_answered(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa, fake_wecom: FakeWeCom,
        monkeypatch: pytest.MonkeyPatch) -> None:
    channel = channel_for(fake_wecom)
    client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
    release = asyncio.Event()
    real_turn = channel._turn

    async def held_turn(message: InboundMessage, conversation: Conversation) -> None:
        await release.wait()  # the bot's turn waits until we have looked
        await real_turn(message, conversation)

    monkeypatch.setattr(channel, "_turn", held_turn)
    assert await post(client, "工资被拖欠", "m1") == (200, None)
    assert await inbound(database) == ["工资被拖欠"]  # stored, though not yet answered
    assert fake_rasa.received == []
    release.set()
    await channel.drain()
    assert [s["text"]["content"] for s in fake_wecom.sent] == ["收到:工资被拖欠"]


async def test_database_down_gets_a_retryable_answer_and_the_retry_is_answered(
        aiohttp_client: Any, down_database: Database, sqlite_database: Database,
        fake_rasa: FakeRasa, fake_wecom: FakeWeCom) -> None:
    channel = channel_for(fake_wecom)
    client = await start_gateway(aiohttp_client, down_database, fake_rasa, channel)
    assert await post(client, "你好", "m1") == (503, "5")
    await channel.drain()
    assert fake_rasa.received == [] and fake_wecom.sent == []  # nothing acknowledged

    # the platform retries once the database is back: stored and answered once
    channel = channel_for(fake_wecom)
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post(client, "你好", "m1") == (200, None)
    assert await post(client, "你好", "m1") == (200, None)  # a second retry: a duplicate
    await channel.drain()
    assert await inbound(sqlite_database) == ["你好"]
    assert [s["text"]["content"] for s in fake_wecom.sent] == ["收到:你好"]


async def test_web_messages_get_a_retryable_503_when_the_database_is_down(
        gateway: GatewayFactory, down_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(down_database)
    session = await (await client.post("/channels/web/sessions")).json()
    resp = await client.post("/channels/web/messages", json={"text": "你好"},
                             headers={"Authorization": f"Bearer {session['token']}"})
    assert resp.status == 503 and resp.headers["Retry-After"] == "5"
    body = await resp.json()
    assert body["error"] == "unavailable" and "稍后" in body["message"]
    assert fake_rasa.received == []


async def test_redis_down_the_database_still_deduplicates(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom) -> None:
    channel = channel_for(fake_wecom)
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel,
                                 redis_url="redis://127.0.0.1:1/0")
    for _ in range(3):
        assert await post(client, "你好", "m7") == (200, None)
    await channel.drain()
    assert len(fake_rasa.received) == 1 and len(fake_wecom.sent) == 1


async def test_wecom_kf_keeps_its_cursor_when_a_message_could_not_be_stored(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.connectors.wecom_kf import test_channel as kf

    async with serve(FakeWeCom(corp_id=kf.CORP_ID, secrets=("kf-secret",),
                               kf_event_token=kf.EVENT_TOKEN)) as fake:
        channel = kf.make_channel(fake)
        client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
        fake.kf_messages = [kf.item("m1", "wmUser1", "你好"), kf.item("m2", "wmUser2", "在吗")]
        router = client.app[router_key]
        real_accept: Callable[[InboundMessage], Awaitable[Conversation | None]] = router.accept
        calls = 0

        async def flaky_accept(message: InboundMessage) -> Conversation | None:
            nonlocal calls
            calls += 1
            if calls == 2:  # the database drops out for one insert
                raise ConnectionRefusedError("database down")
            return await real_accept(message)

        monkeypatch.setattr(router, "accept", flaky_accept)
        assert await kf.notify(client) == 200
        await channel.drain()
        assert await kf.stored_cursor(sqlite_database) is None  # not acknowledged
        assert await kf.notify(client) == 200  # the next pull reads the page again
        await channel.drain()
        assert await kf.stored_cursor(sqlite_database) == "2"
        assert sorted(t or "" for t in await inbound(sqlite_database)) == ["你好", "在吗"]
        assert sorted(s["text"]["content"] for s in fake.sent) == ["收到:你好", "收到:在吗"]


async def test_redis_down_the_web_socket_closes_politely_and_messages_still_work(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database, redis_url="redis://127.0.0.1:1/0")
    session = await (await client.post("/channels/web/sessions")).json()
    async with client.ws_connect("/channels/web/ws", params={"token": session["token"]}) as ws:
        closed = await ws.receive(timeout=10)
    assert ws.close_code == 1013  # try again later: the page reconnects
    assert closed.type.name in ("CLOSE", "CLOSED")
    resp = await client.post("/channels/web/messages", json={"text": "你好"},
                             headers={"Authorization": f"Bearer {session['token']}"})
    assert resp.status == 200 and (await resp.json())["messages"]

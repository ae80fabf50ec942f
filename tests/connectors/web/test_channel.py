"""The web channel contract, against the real gateway app (Rasa played by a loopback fake)."""

from __future__ import annotations

import asyncio
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from casedb.models import Direction, MessageLog
from connectors.base import OutboundMessage
from gateway.keys import channels_key
from tests.conftest import Client, Database, FakeRasa, GatewayFactory


async def new_session(client: Client) -> tuple[str, dict[str, str]]:
    resp = await client.post("/channels/web/sessions")
    assert resp.status == 201
    body = await resp.json()
    return body["session_id"], {"Authorization": f"Bearer {body['token']}"}


async def log_rows(db: Database) -> list[tuple[Direction, str | None, Any]]:
    async with db.sessions() as session:
        rows = (await session.execute(select(MessageLog).order_by(MessageLog.id))).scalars()
        return [(r.direction, r.text, r.payload) for r in rows]


async def test_a_message_goes_to_rasa_and_both_sides_are_logged(
        gateway: GatewayFactory, database: Database, fake_rasa: FakeRasa) -> None:
    fake_rasa.replies = lambda body: [
        {"recipient_id": body["sender"], "text": "您好!请问需要什么帮助?",
         "buttons": [{"title": "法律援助", "payload": "/legal_aid_eligibility"}]},
        {"recipient_id": body["sender"], "custom": {"link": {"url": "https://example.org/guide"}}},
    ]
    client = await gateway(database)
    session_id, auth = await new_session(client)

    resp = await client.post("/channels/web/messages", json={"text": " 你好 "}, headers=auth)

    assert resp.status == 200
    assert await resp.json() == {"messages": [
        {"text": "您好!请问需要什么帮助?",
         "buttons": [{"title": "法律援助", "payload": "/legal_aid_eligibility"}]},
        {"custom": {"link": {"url": "https://example.org/guide"}}},
    ]}
    assert fake_rasa.received == [{"sender": f"web:{session_id}", "message": "你好",
                                   "input_channel": "web",
                                   "metadata": {"channel": "web", "user_agent": resp.request_info
                                                .headers.get("User-Agent", ""),
                                                "turn_id": resp.headers["X-Turn-Id"]}}]
    assert await log_rows(database) == [
        (Direction.INBOUND, "你好", None),
        (Direction.OUTBOUND, "您好!请问需要什么帮助?",
         {"buttons": [{"title": "法律援助", "payload": "/legal_aid_eligibility"}]}),
        (Direction.OUTBOUND, None, {"custom": {"link": {"url": "https://example.org/guide"}}}),
    ]


async def test_a_button_payload_goes_to_rasa_as_is(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    _, auth = await new_session(client)
    resp = await client.post("/channels/web/messages", headers=auth,
                             json={"payload": '/inform{"district":"武进区"}', "text": "武进区"})
    assert resp.status == 200
    assert fake_rasa.received[0]["message"] == '/inform{"district":"武进区"}'


async def test_bot_unreachable_gets_an_apology_and_the_message_is_kept(
        gateway: GatewayFactory, database: Database) -> None:
    client = await gateway(database, rasa_url="http://127.0.0.1:1")
    _, auth = await new_session(client)
    resp = await client.post("/channels/web/messages", json={"text": "我想申请法律援助"},
                             headers=auth)
    assert resp.status == 200
    [message] = (await resp.json())["messages"]
    assert "消息已记录" in message["text"] and "12348" in message["text"]
    rows = await log_rows(database)
    assert rows[0] == (Direction.INBOUND, "我想申请法律援助", None)
    assert rows[1][0] == Direction.OUTBOUND and rows[1][1] == message["text"]


async def test_bot_error_status_and_silence_both_get_a_reply(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    _, auth = await new_session(client)
    fake_rasa.status = 500
    resp = await client.post("/channels/web/messages", json={"text": "你好"}, headers=auth)
    assert "消息已记录" in (await resp.json())["messages"][0]["text"]
    fake_rasa.status = 200
    fake_rasa.replies = lambda body: []
    resp = await client.post("/channels/web/messages", json={"text": "你好"}, headers=auth)
    assert "消息已记录" in (await resp.json())["messages"][0]["text"]


async def test_missing_bad_or_expired_token_is_401(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        resp = await client.post("/channels/web/messages", json={"text": "你好"}, headers=headers)
        assert resp.status == 401
        assert (await resp.json())["error"] == "unauthorized"
    forged = URLSafeTimedSerializer("another-secret", salt="legalbot.web.session").dumps(
        {"sid": "abc"})
    resp = await client.post("/channels/web/messages", json={"text": "你好"},
                             headers={"Authorization": f"Bearer {forged}"})
    assert resp.status == 401

    expiring = await gateway(sqlite_database, web_session_ttl=0)
    _, auth = await new_session(expiring)
    await asyncio.sleep(1.1)
    resp = await expiring.post("/channels/web/messages", json={"text": "你好"}, headers=auth)
    assert resp.status == 401
    assert fake_rasa.received == []


async def test_malformed_bodies_are_400_with_a_json_error(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    _, auth = await new_session(client)
    cases: list[tuple[bytes, str]] = [
        (b"{not json", "bad_json"),
        (b"\xff\xfe\x00", "bad_json"),
        (b'["a list"]', "bad_json"),
        (b'{"text": ""}', "empty_text"),
        (b'{"text": "   "}', "empty_text"),
        (b'{"text": 42}', "empty_text"),
        (b"{}", "empty_text"),
        (b'{"payload": "no slash"}', "bad_payload"),
        (b'{"text": "hi", "message_id": 7}', "bad_message_id"),
    ]
    for raw, code in cases:
        resp = await client.post("/channels/web/messages", data=raw,
                                 headers={**auth, "Content-Type": "application/json"})
        assert resp.status == 400, raw
        assert (await resp.json())["error"] == code, raw
    assert fake_rasa.received == []


async def test_long_text_is_413_and_a_huge_body_too(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    _, auth = await new_session(client)
    ok = await client.post("/channels/web/messages", json={"text": "法" * 2000}, headers=auth)
    assert ok.status == 200
    resp = await client.post("/channels/web/messages", json={"text": "法" * 2001}, headers=auth)
    assert resp.status == 413
    assert (await resp.json())["error"] == "text_too_long"
    resp = await client.post("/channels/web/messages", data=b'{"text": "' + b"a" * 70_000 + b'"}',
                             headers={**auth, "Content-Type": "application/json"})
    assert resp.status == 413
    assert len(fake_rasa.received) == 1


async def test_a_retried_message_id_is_answered_once(
        gateway: GatewayFactory, database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(database)
    _, auth = await new_session(client)
    body = {"text": "你好", "message_id": "c-1"}
    first = await client.post("/channels/web/messages", json=body, headers=auth)
    second = await client.post("/channels/web/messages", json=body, headers=auth)
    assert len((await first.json())["messages"]) == 1
    assert await second.json() == {"messages": [], "duplicate": True}
    assert len(fake_rasa.received) == 1
    assert [r[0] for r in await log_rows(database)] == [Direction.INBOUND, Direction.OUTBOUND]


async def test_websocket_pushes_later_messages_to_its_session_only(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database)
    session_a, auth_a = await new_session(client)
    session_b, _ = await new_session(client)
    token_a = auth_a["Authorization"].removeprefix("Bearer ")
    refused = await client.get("/channels/web/ws", params={"token": "bad"})
    assert refused.status == 401

    async with client.ws_connect("/channels/web/ws", params={"token": token_a}) as ws:
        await asyncio.sleep(0.05)
        web_channel = client.app[channels_key]["web"]
        await web_channel.send(session_b, [OutboundMessage(text="别人的消息")])
        await web_channel.send(session_a, [OutboundMessage(text="工作人员:您好")])
        received = await asyncio.wait_for(ws.receive_json(), 2)
    assert received == {"messages": [{"text": "工作人员:您好"}]}


async def test_chat_page_and_health(gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database)
    page = await client.get("/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = await page.text()
    assert "法律服务助手" in html and "/channels/web/messages" in html
    health = await client.get("/healthz")
    assert await health.json() == {"status": "ok"}

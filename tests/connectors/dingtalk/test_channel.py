"""The DingTalk robot (HTTP mode) end to end against a fake DingTalk OpenAPI."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors import tokens
from connectors.dingtalk import DingTalkChannel, DingTalkSettings
from tests.conftest import Client, Database, FakeRasa
from tests.connectors.fakes import (
    FakeDingTalk,
    dingtalk_headers,
    dingtalk_text,
    serve,
    start_gateway,
)

APP_KEY = "ding-test-key"
SECRET = "SECtestsecret"
PATH = "/channels/dingtalk/robot"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.01)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDingTalk]:
    async with serve(FakeDingTalk(app_key=APP_KEY, app_secret=SECRET)) as fake:
        yield fake


@pytest.fixture
def channel(fake: FakeDingTalk) -> DingTalkChannel:
    settings = DingTalkSettings.from_env({"DINGTALK_APP_KEY": APP_KEY,
                                          "DINGTALK_APP_SECRET": SECRET,
                                          "DINGTALK_API_BASE": fake.url})
    assert settings is not None
    return DingTalkChannel(settings)


async def post(client: Client, body: dict[str, Any], *, secret: str = SECRET,
               timestamp_ms: int | None = None) -> int:
    headers = dingtalk_headers(secret, timestamp_ms=timestamp_ms)
    resp = await client.post(PATH, data=json.dumps(body, ensure_ascii=False).encode(),
                             headers={**headers, "Content-Type": "application/json"})
    return resp.status


async def test_a_text_message_gets_exactly_one_reply(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa, fake: FakeDingTalk,
        channel: DingTalkChannel) -> None:
    client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
    assert await post(client, dingtalk_text("staff001", "你好", "msgA1")) == 200
    await channel.drain()
    assert [r["sender"] for r in fake_rasa.received] == ["dingtalk:user:staff001"]
    assert fake.sent == [{"path": "/v1.0/robot/oToMessages/batchSend", "robotCode": APP_KEY,
                          "msgKey": "sampleText", "msgParam": '{"content": "收到:你好"}',
                          "userIds": ["staff001"], "content": "收到:你好"}]


async def test_a_group_message_is_answered_in_the_group(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeDingTalk, channel: DingTalkChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    body = dingtalk_text("staff001", " 咨询公证 ", "msgG1", conversation_type="2")
    assert await post(client, body) == 200
    await channel.drain()
    [sent] = fake.sent
    assert sent["path"] == "/v1.0/robot/groupMessages/send"
    assert sent["openConversationId"] == "cidTestConversation=="
    assert sent["content"] == "收到:咨询公证"


async def test_a_message_delivered_three_times_is_answered_once(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeDingTalk, channel: DingTalkChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    body = dingtalk_text("staff002", "你好", "msgB1")
    assert await asyncio.gather(*(post(client, body) for _ in range(3))) == [200, 200, 200]
    await channel.drain()
    assert len(fake_rasa.received) == 1 and len(fake.sent) == 1


@pytest.mark.parametrize("case", ["forged", "stale", "missing"])
async def test_unverifiable_requests_are_refused(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeDingTalk, channel: DingTalkChannel, case: str) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    body = dingtalk_text("staff003", "你好", "msgC1")
    if case == "missing":
        status = (await client.post(PATH, json=body)).status
    elif case == "forged":
        status = await post(client, body, secret="SECwrong")
    else:
        status = await post(client, body, timestamp_ms=int(time.time() * 1000) - 3_601_000)
    assert status in (401, 403)
    await channel.drain()
    assert fake_rasa.received == [] and fake.sent == []


async def test_an_expired_token_is_refreshed_once_for_20_concurrent_replies(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeDingTalk, channel: DingTalkChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post(client, dingtalk_text("warm", "你好", "msgW")) == 200
    await channel.drain()
    fake.expire_tokens()
    await asyncio.gather(*(post(client, dingtalk_text(f"s{i}", f"问{i}", f"msgD{i}"))
                           for i in range(20)))
    await channel.drain()
    assert fake.token_fetches == 2 and len(fake.sent) == 21


async def test_throttling_and_server_errors_are_retried(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeDingTalk, channel: DingTalkChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.fail_next = [{"status": 503}, {"status": 429, "code": "Throttling.Api"}]
    assert await post(client, dingtalk_text("s1", "你好", "msgE1")) == 200
    await channel.drain()
    assert fake.send_attempts == 3 and len(fake.sent) == 1


async def test_a_picture_gets_a_polite_reply(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeDingTalk, channel: DingTalkChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post(client, dingtalk_text("s1", "", "msgF1", msgtype="picture")) == 200
    await channel.drain()
    assert fake_rasa.received == []
    assert "图片" in fake.sent[0]["content"]

"""The Feishu bot end to end against a fake Feishu OpenAPI."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors import tokens
from connectors.base import OutboundMessage
from connectors.feishu import FeishuChannel, FeishuSettings
from connectors.feishu.crypto import encrypt
from tests.conftest import Client, Database, FakeRasa
from tests.connectors.fakes import (
    FakeFeishu,
    feishu_request,
    feishu_text_event,
    serve,
    start_gateway,
)

ENCRYPT_KEY = "test key"
VERIFICATION = "verification-token"
PATH = "/channels/feishu/events"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.01)


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    async with serve(FakeFeishu(app_id="cli_test", app_secret="feishu-secret")) as fake:
        yield fake


@pytest.fixture
def channel(fake: FakeFeishu) -> FeishuChannel:
    settings = FeishuSettings.from_env({
        "FEISHU_APP_ID": "cli_test", "FEISHU_APP_SECRET": "feishu-secret",
        "FEISHU_VERIFICATION_TOKEN": VERIFICATION, "FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,
        "FEISHU_API_BASE": fake.url})
    assert settings is not None
    return FeishuChannel(settings)


async def post_event(client: Client, event: dict[str, Any], **kwargs: Any) -> int:
    headers, body = feishu_request(ENCRYPT_KEY, event, **kwargs)
    return (await client.post(PATH, data=body, headers=headers)).status


async def test_url_verification_answers_the_challenge_when_the_token_matches(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        channel: FeishuChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    challenge = {"challenge": "ajls384kdj", "token": VERIFICATION, "type": "url_verification"}
    body = json.dumps({"encrypt": encrypt(ENCRYPT_KEY, json.dumps(challenge))})
    resp = await client.post(PATH, data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 200 and await resp.json() == {"challenge": "ajls384kdj"}
    challenge["token"] = "wrong"
    body = json.dumps({"encrypt": encrypt(ENCRYPT_KEY, json.dumps(challenge))})
    assert (await client.post(PATH, data=body)).status == 403


async def test_a_text_message_gets_exactly_one_reply(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa, fake: FakeFeishu,
        channel: FeishuChannel) -> None:
    client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
    event = feishu_text_event("ou_user1", "你好", "ev1", token=VERIFICATION, message_id="om_1")
    assert await post_event(client, event) == 200
    await channel.drain()
    assert [r["sender"] for r in fake_rasa.received] == ["feishu:ou_user1"]
    [sent] = fake.sent
    assert sent["path"] == "/open-apis/im/v1/messages/om_1/reply"
    assert sent["text"] == "收到:你好" and sent["msg_type"] == "text"
    assert sent["uuid"] == "ev1-0" and sent["reply_in_thread"] is False


async def test_an_event_pushed_three_times_is_answered_once(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeFeishu,
        channel: FeishuChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    event = feishu_text_event("ou_user2", "你好", "ev2", token=VERIFICATION)
    assert await asyncio.gather(*(post_event(client, event) for _ in range(3))) == [200] * 3
    await channel.drain()
    assert len(fake_rasa.received) == 1 and len(fake.sent) == 1


@pytest.mark.parametrize("case", ["forged", "stale", "wrong_token", "unsigned"])
async def test_unverifiable_events_are_refused(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeFeishu,
        channel: FeishuChannel, case: str) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    event = feishu_text_event("ou_x", "你好", "ev3", token=VERIFICATION)
    if case == "forged":
        status = await post_event(client, event, sign_key="another key")
    elif case == "stale":
        status = await post_event(client, event, timestamp=int(time.time()) - 3600)
    elif case == "wrong_token":
        status = await post_event(client, feishu_text_event("ou_x", "你好", "ev3", token="no"))
    else:
        _, body = feishu_request(ENCRYPT_KEY, event)
        status = (await client.post(PATH, data=body)).status
    assert status in (401, 403)
    await channel.drain()
    assert fake_rasa.received == [] and fake.sent == []


async def test_an_expired_token_is_refreshed_once_for_20_concurrent_replies(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeFeishu,
        channel: FeishuChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post_event(client, feishu_text_event("ou_w", "你好", "evw",
                                                      token=VERIFICATION)) == 200
    await channel.drain()
    fake.expire_tokens()
    await asyncio.gather(*(post_event(client, feishu_text_event(
        f"ou_{i}", f"问{i}", f"ev-c{i}", token=VERIFICATION)) for i in range(20)))
    await channel.drain()
    assert fake.token_fetches == 2 and len(fake.sent) == 21


async def test_a_failed_send_is_retried_and_sent_once(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeFeishu,
        channel: FeishuChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.fail_next = [{"status": 502}, {"status": 400, "code": 99991400, "msg": "rate"}]
    assert await post_event(client, feishu_text_event("ou_r", "你好", "evr",
                                                      token=VERIFICATION)) == 200
    await channel.drain()
    assert fake.send_attempts == 3 and len(fake.sent) == 1


async def test_send_outside_a_request_uses_the_open_id_or_chat_id(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeFeishu,
        channel: FeishuChannel) -> None:
    await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    await channel.send("ou_user1", [OutboundMessage(text="预约提醒")])
    await channel.send("oc_group", [OutboundMessage(text="群提醒")])
    assert [(m["query"]["receive_id_type"], m["receive_id"]) for m in fake.sent] == [
        ("open_id", "ou_user1"), ("chat_id", "oc_group")]


async def test_an_image_gets_a_polite_reply(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeFeishu,
        channel: FeishuChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    event = feishu_text_event("ou_i", "", "evi", token=VERIFICATION, message_type="image")
    assert await post_event(client, event) == 200
    await channel.drain()
    assert fake_rasa.received == [] and "图片" in fake.sent[0]["text"]

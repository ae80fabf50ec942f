from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from casedb.models import MessageLog
from connectors.wecom import WeComChannel, WeComSettings
from connectors.wxcrypt import WXBizMsgCrypt
from gateway.ratelimit import (
    WINDOW_SECONDS,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from gateway.replies import reply
from gateway.settings import Settings, SettingsError
from tests.conftest import REDIS_URL, Database, FakeRasa, GatewayFactory
from tests.connectors.fakes import (
    FakeWeCom,
    serve,
    start_gateway,
    wecom_text_xml,
    wx_encrypted_callback,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[tuple[RateLimiter, Clock]]:
    clock = Clock()
    if request.param == "memory":
        yield MemoryRateLimiter(clock), clock
        return
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"test-{secrets.token_hex(4)}"
    store = RedisRateLimiter(client, prefix, clock)
    yield store, clock
    keys = [k async for k in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await store.close()


async def test_a_limit_allows_that_many_per_window_then_refuses(
        limiter: tuple[RateLimiter, Clock]) -> None:
    store, clock = limiter
    assert [await store.allow("a", 3) for _ in range(5)] == [True, True, True, False, False]
    assert await store.allow("b", 3)  # keys are independent
    clock.now += WINDOW_SECONDS
    assert await store.allow("a", 3)  # a new window


async def test_zero_means_no_limit(limiter: tuple[RateLimiter, Clock]) -> None:
    store, _ = limiter
    assert all([await store.allow("a", 0) for _ in range(100)])


async def test_redis_down_counts_in_memory() -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    store = RedisRateLimiter(client, "x")
    assert [await store.allow("a", 2) for _ in range(3)] == [True, True, False]
    await store.close()


async def test_web_messages_over_the_sender_limit_get_a_polite_429(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database, rate_limit_sender=3, rate_limit_ip=100)
    body = await (await client.post("/channels/web/sessions")).json()
    auth = {"Authorization": f"Bearer {body['token']}"}
    statuses = [(await client.post("/channels/web/messages", json={"text": f"问题{i}"},
                                   headers=auth)).status for i in range(3)]
    limited = await client.post("/channels/web/messages", json={"text": "再问"}, headers=auth)
    assert statuses == [200, 200, 200] and limited.status == 429
    data = await limited.json()
    assert data["error"] == "rate_limited" and data["messages"] == [{"text": reply(
        "rate_limited")}] and "稍等" in data["message"]
    assert limited.headers["Retry-After"] == "60"
    assert len(fake_rasa.received) == 3
    # another person is not affected
    other = await (await client.post("/channels/web/sessions")).json()
    assert (await client.post("/channels/web/messages", json={"text": "你好"}, headers={
        "Authorization": f"Bearer {other['token']}"})).status == 200


async def test_one_ip_cannot_farm_sessions(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database, rate_limit_ip=5)
    statuses = [(await client.post("/channels/web/sessions")).status for _ in range(7)]
    assert statuses == [201] * 5 + [429] * 2


async def test_a_platform_sender_over_the_limit_is_stored_and_told_once(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    corp, token, key = "ww-corp", "tok", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
    async with serve(FakeWeCom(corp_id=corp)) as fake:
        settings = WeComSettings.from_env({
            "WECOM_CORP_ID": corp, "WECOM_AGENT_ID": "1", "WECOM_SECRET": "app-secret",
            "WECOM_TOKEN": token, "WECOM_ENCODING_AES_KEY": key, "WECOM_API_BASE": fake.url})
        assert settings is not None
        channel = WeComChannel(settings)
        client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel,
                                     rate_limit_sender=2)
        crypt = WXBizMsgCrypt(token, key, corp)
        for i in range(5):
            query, body = wx_encrypted_callback(
                crypt, wecom_text_xml("zhangsan", f"问题{i}", f"m{i}", corp_id=corp),
                to_user=corp)
            assert (await client.post(f"/channels/wecom/callback?{query}", data=body)).status \
                == 200
            await channel.drain()
    assert len(fake_rasa.received) == 2
    texts = [s["text"]["content"] for s in fake.sent]
    assert texts.count(reply("rate_limited")) == 1 and len(texts) == 3
    async with sqlite_database.sessions() as db:  # nothing lost: all five are in the log
        inbound = (await db.execute(select(func.count()).select_from(MessageLog).where(
            MessageLog.direction == "in"))).scalar_one()
    assert inbound == 5


def test_limits_outbox_and_retention_come_from_the_environment() -> None:
    settings = Settings.from_env({"RATE_LIMIT_SENDER": "5", "RATE_LIMIT_IP": "0",
                                  "OUTBOX_INTERVAL": "2.5", "OUTBOX_MAX_ATTEMPTS": "3",
                                  "RETENTION_DAYS": "90", "RETENTION_INTERVAL": "600"})
    assert (settings.rate_limit_sender, settings.rate_limit_ip, settings.outbox_interval,
            settings.outbox_max_attempts, settings.retention_days,
            settings.retention_interval) == (5, 0, 2.5, 3, 90, 600.0)
    defaults = Settings.from_env({})
    assert (defaults.rate_limit_sender, defaults.rate_limit_ip, defaults.retention_days) == (
        20, 60, 180)
    with pytest.raises(SettingsError):
        Settings.from_env({"RETENTION_DAYS": "half a year"})

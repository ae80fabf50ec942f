"""The WeCom channel end to end: real gateway app, fake WeCom API and fake Rasa on loopback."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from casedb.models import Conversation
from connectors import tokens
from connectors.wecom import WeComChannel, WeComSettings
from connectors.wxcrypt import WXBizMsgCrypt
from tests.conftest import REDIS_URL, Client, Database, FakeRasa
from tests.connectors.fakes import (
    FakeWeCom,
    serve,
    start_gateway,
    wecom_text_xml,
    wx_encrypted_callback,
    wx_url_check,
)

CORP_ID = "ww-test-corp"
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
PATH = "/channels/wecom/callback"


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeCom]:
    async with serve(FakeWeCom(corp_id=CORP_ID, secrets=("app-secret",))) as fake:
        yield fake


@pytest.fixture
def fake_wecom_settings(fake_wecom: FakeWeCom) -> WeComSettings:
    settings = WeComSettings.from_env({
        "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "app-secret",
        "WECOM_TOKEN": TOKEN, "WECOM_ENCODING_AES_KEY": AES_KEY,
        "WECOM_API_BASE": fake_wecom.url})
    assert settings is not None
    return settings


@pytest.fixture
def channel(fake_wecom_settings: WeComSettings) -> WeComChannel:
    return WeComChannel(fake_wecom_settings)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.01)


CRYPT = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)


async def post_text(client: Client, sender: str, content: str, msg_id: str,
                    **kwargs: Any) -> int:
    query, body = wx_encrypted_callback(
        CRYPT, wecom_text_xml(sender, content, msg_id, corp_id=CORP_ID), to_user=CORP_ID,
        agent_id="1000002", **kwargs)
    resp = await client.post(f"{PATH}?{query}", data=body)
    assert await resp.text() == "" or resp.status != 200
    return resp.status


async def test_url_verification_echoes_the_bare_plaintext(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    resp = await client.get(f"{PATH}?{wx_url_check(CRYPT, '1288432023552776189')}")
    assert resp.status == 200
    assert await resp.read() == b"1288432023552776189"
    assert resp.content_type == "text/plain"


async def test_url_verification_with_a_literal_plus_in_echostr(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    for _ in range(20):  # find an echostr with a '+' (most have one)
        query = wx_url_check(CRYPT, "5927782489442352469", encode_plus=False)
        if "+" in query:
            break
    assert "+" in query
    resp = await client.get(f"{PATH}?{query}")
    assert resp.status == 200 and await resp.text() == "5927782489442352469"


async def test_url_verification_rejects_a_forged_signature(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    query = wx_url_check(CRYPT, "1").replace("msg_signature=", "msg_signature=0")
    assert (await client.get(f"{PATH}?{query}")).status == 403


async def test_a_text_message_gets_exactly_one_reply(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa, fake_wecom: FakeWeCom,
        channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
    assert await post_text(client, "zhangsan", "你好", "1001") == 200
    await channel.drain()
    turn_id = fake_rasa.received[0]["metadata"].pop("turn_id")  # follows the turn in the logs
    assert len(turn_id) == 16 and int(turn_id, 16) >= 0
    assert fake_rasa.received == [{"sender": "wecom:zhangsan", "message": "你好",
                                   "input_channel": "wecom",
                                   "metadata": {"channel": "wecom"}}]
    assert fake_wecom.sent == [{"touser": "zhangsan", "msgtype": "text", "agentid": 1000002,
                                "text": {"content": "收到:你好"}, "safe": 0}]


async def test_a_message_delivered_three_times_is_answered_once(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa, fake_wecom: FakeWeCom,
        channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
    statuses = await asyncio.gather(*(post_text(client, "lisi", "咨询", "2002")
                                      for _ in range(3)))
    assert statuses == [200, 200, 200]
    await channel.drain()
    assert await post_text(client, "lisi", "咨询", "2002") == 200  # a late retry too
    await channel.drain()
    assert len(fake_rasa.received) == 1
    assert len(fake_wecom.sent) == 1


async def test_retries_are_deduplicated_across_gateways_sharing_redis(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel, fake_wecom_settings: WeComSettings) -> None:
    shared = {"redis_url": REDIS_URL, "redis_prefix": f"test-{secrets.token_hex(4)}"}
    other = WeComChannel(fake_wecom_settings)
    first = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel, **shared)
    second = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, other, **shared)
    statuses = await asyncio.gather(post_text(first, "chen", "你好", "11001"),
                                    post_text(second, "chen", "你好", "11001"),
                                    post_text(first, "chen", "你好", "11001"))
    assert list(statuses) == [200, 200, 200]
    await channel.drain()
    await other.drain()
    assert len(fake_rasa.received) == 1 and len(fake_wecom.sent) == 1


@pytest.mark.parametrize("case", ["forged", "stale", "wrong_token", "wrong_corp"])
async def test_unverifiable_callbacks_are_refused_and_never_reach_the_bot(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel, case: str) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    xml = wecom_text_xml("mallory", "hi", "3003", corp_id=CORP_ID)
    crypt = CRYPT
    kwargs: dict[str, Any] = {}
    if case == "stale":
        kwargs["timestamp"] = int(time.time()) - 3600
    if case == "wrong_token":
        kwargs["token"] = "not-the-token"
    if case == "wrong_corp":
        crypt = WXBizMsgCrypt(TOKEN, AES_KEY, "ww-other-corp")
    query, body = wx_encrypted_callback(crypt, xml, to_user=CORP_ID, **kwargs)
    if case == "forged":
        query = "msg_signature=" + "0" * 40 + query[query.index("&"):]
    resp = await client.post(f"{PATH}?{query}", data=body)
    assert resp.status in (401, 403)
    await channel.drain()
    assert fake_rasa.received == [] and fake_wecom.sent == []


async def test_malformed_bodies_are_bad_requests(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    query, _ = wx_encrypted_callback(CRYPT, "<xml/>", to_user=CORP_ID)
    for body in (b"", b"<xml><Encrypt>", b"<xml><ToUserName>x</ToUserName></xml>",
                 b'<!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>'):
        assert (await client.post(f"{PATH}?{query}", data=body)).status == 400
    assert fake_rasa.received == []


async def test_an_expired_token_is_refreshed_once_for_20_concurrent_replies(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post_text(client, "warmup", "你好", "4000") == 200
    await channel.drain()
    assert fake_wecom.token_fetches == 1
    fake_wecom.expire_tokens()  # WeCom invalidated it early; our cache still trusts it

    await asyncio.gather(*(post_text(client, f"user{i}", f"问题{i}", f"{4001 + i}")
                           for i in range(20)))
    await channel.drain()
    assert fake_wecom.token_fetches == 2
    assert len(fake_wecom.sent) == 21
    assert {m["touser"] for m in fake_wecom.sent[1:]} == {f"user{i}" for i in range(20)}


async def test_send_is_retried_with_backoff_when_wecom_is_busy(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake_wecom.fail_next = [{"errcode": -1, "errmsg": "system busy"}] * 2
    assert await post_text(client, "busy", "你好", "5001") == 200
    await channel.drain()
    assert fake_wecom.send_attempts == 3 and len(fake_wecom.sent) == 1


async def test_buttons_become_numbered_choices_and_a_number_picks_one(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel) -> None:
    fake_rasa.replies = lambda body: [{"text": "请问您想办理什么?", "buttons": [
        {"title": "法律援助", "payload": "/legal_aid_eligibility"},
        {"title": "预约咨询", "payload": "/book_consultation"}]}]
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post_text(client, "wangwu", "你好", "6001") == 200
    await channel.drain()
    assert fake_wecom.sent[0]["text"]["content"] == (
        "请问您想办理什么?\n1. 法律援助\n2. 预约咨询\n(请回复数字选择)")
    assert await post_text(client, "wangwu", "２", "6002") == 200
    await channel.drain()
    assert fake_rasa.received[1]["message"] == "/book_consultation"


async def test_long_text_is_split_at_2048_bytes(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel) -> None:
    long_text = "。".join(["法律援助是国家建立的保障制度"] * 120)
    fake_rasa.replies = lambda body: [{"text": long_text}]
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post_text(client, "zhaoliu", "介绍", "7001") == 200
    await channel.drain()
    contents = [m["text"]["content"] for m in fake_wecom.sent]
    assert len(contents) > 1
    assert all(len(c.encode()) <= 2048 for c in contents)
    assert "".join(contents) == long_text


async def test_unsupported_messages_get_a_polite_chinese_reply(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    for _ in range(2):  # retried: still one reply
        query, body = wx_encrypted_callback(
            CRYPT, wecom_text_xml("sunqi", "", "8001", corp_id=CORP_ID, msg_type="voice"),
            to_user=CORP_ID)
        assert (await client.post(f"{PATH}?{query}", data=body)).status == 200
    await channel.drain()
    assert fake_rasa.received == []
    [sent] = fake_wecom.sent
    assert sent["touser"] == "sunqi" and "语音" in sent["text"]["content"]
    assert "文字" in sent["text"]["content"]


async def test_a_wecom_user_and_a_web_user_with_the_same_id_are_separate(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    session = await (await client.post("/channels/web/sessions")).json()
    same_id = session["session_id"]
    resp = await client.post("/channels/web/messages", json={"text": "网页"},
                             headers={"Authorization": f"Bearer {session['token']}"})
    assert resp.status == 200
    assert await post_text(client, same_id, "企业微信", "9001") == 200
    await channel.drain()
    assert [r["sender"] for r in fake_rasa.received] == [f"web:{same_id}", f"wecom:{same_id}"]
    async with sqlite_database.sessions() as db:
        rows = (await db.execute(select(Conversation.channel, Conversation.external_id)
                                 .order_by(Conversation.id))).all()
    assert [tuple(r) for r in rows] == [("web", same_id), ("wecom", same_id)]
    assert [m["touser"] for m in fake_wecom.sent] == [same_id]


async def test_a_refused_send_is_logged_and_later_messages_still_flow(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake_wecom: FakeWeCom, channel: WeComChannel, caplog: pytest.LogCaptureFixture) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake_wecom.fail_next = [{"errcode": 81013, "errmsg": "user not in the app's visible range"}]
    assert await post_text(client, "outsider", "你好", "10001") == 200
    await channel.drain()
    assert fake_wecom.send_attempts == 1 and fake_wecom.sent == []  # not retried: permanent
    assert "81013" in caplog.text
    assert await post_text(client, "insider", "你好", "10002") == 200
    await channel.drain()
    assert [m["touser"] for m in fake_wecom.sent] == ["insider"]

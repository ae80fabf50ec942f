"""The Official Account channel end to end, in plain and safe mode."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors import tokens
from connectors.wechat import WeChatChannel, WeChatSettings
from connectors.wxcrypt import WXBizMsgCrypt, sha1_signature
from tests.conftest import Client, Database, FakeRasa
from tests.connectors.fakes import (
    FakeWeChat,
    serve,
    start_gateway,
    wechat_plain_query,
    wechat_text_xml,
    wx_encrypted_callback,
)

APP_ID = "wx-test-app"
TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PATH = "/channels/wechat/callback"
OPENID = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.01)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    async with serve(FakeWeChat(app_id=APP_ID, app_secret="wechat-secret")) as fake:
        yield fake


def make_channel(fake: FakeWeChat, aes_key: str = "") -> WeChatChannel:
    settings = WeChatSettings.from_env({
        "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": "wechat-secret", "WECHAT_TOKEN": TOKEN,
        "WECHAT_ENCODING_AES_KEY": aes_key, "WECHAT_API_BASE": fake.url})
    assert settings is not None
    return WeChatChannel(settings)


@pytest.fixture(params=["plain", "safe"])
def channel(request: pytest.FixtureRequest, fake: FakeWeChat) -> WeChatChannel:
    return make_channel(fake, AES_KEY if request.param == "safe" else "")


async def post_text(client: Client, channel: WeChatChannel, openid: str, content: str,
                    msg_id: str, *, timestamp: int | None = None,
                    forge: bool = False) -> int:
    xml = wechat_text_xml(openid, content, msg_id)
    query, ts, nonce = wechat_plain_query(TOKEN, timestamp=timestamp, openid=openid)
    body = xml.encode()
    if channel.crypt is not None:
        crypt = WXBizMsgCrypt(TOKEN, AES_KEY, APP_ID)
        enc_query, body = wx_encrypted_callback(crypt, xml, to_user="gh_x", timestamp=int(ts))
        msg_sig = enc_query.split("&")[0]
        nonce = enc_query.split("&")[2].split("=")[1]
        query = (f"signature={sha1_signature(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
                 f"&openid={openid}&encrypt_type=aes&{msg_sig}")
    if forge:
        query = "signature=" + "0" * 40 + query[query.index("&"):]
    resp = await client.post(f"{PATH}?{query}", data=body)
    if resp.status == 200:
        assert await resp.text() == "success"
    return resp.status


async def test_url_verification_echoes_echostr(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        channel: WeChatChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    query, _, _ = wechat_plain_query(TOKEN)
    resp = await client.get(f"{PATH}?{query}&echostr=5927782489442352469")
    assert resp.status == 200 and await resp.text() == "5927782489442352469"
    forged = "signature=" + "1" * 40 + query[query.index("&"):]
    assert (await client.get(f"{PATH}?{forged}&echostr=1")).status == 403


async def test_a_text_message_gets_exactly_one_reply(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa, fake: FakeWeChat,
        channel: WeChatChannel) -> None:
    client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
    assert await post_text(client, channel, OPENID, "你好", "61001") == 200
    await channel.drain()
    assert [r["sender"] for r in fake_rasa.received] == [f"wechat:{OPENID}"]
    assert fake.sent == [{"touser": OPENID, "msgtype": "text",
                          "text": {"content": "收到:你好"}}]


async def test_a_message_delivered_three_times_is_answered_once(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeChat,
        channel: WeChatChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await asyncio.gather(*(post_text(client, channel, OPENID, "你好", "62001")
                                  for _ in range(3))) == [200, 200, 200]
    await channel.drain()
    assert len(fake_rasa.received) == 1 and len(fake.sent) == 1


@pytest.mark.parametrize("case", ["forged", "stale"])
async def test_unverifiable_requests_are_refused(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeChat,
        channel: WeChatChannel, case: str) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    status = await post_text(client, channel, OPENID, "你好", "63001", forge=case == "forged",
                             timestamp=int(time.time()) - 3600 if case == "stale" else None)
    assert status in (401, 403)
    await channel.drain()
    assert fake_rasa.received == [] and fake.sent == []


async def test_safe_mode_refuses_an_unencrypted_message(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeWeChat) -> None:
    channel = make_channel(fake, AES_KEY)
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    query, _, _ = wechat_plain_query(TOKEN, openid=OPENID)
    resp = await client.post(f"{PATH}?{query}",
                             data=wechat_text_xml(OPENID, "明文", "64001").encode())
    assert resp.status == 403
    await channel.drain()
    assert fake_rasa.received == []


async def test_an_expired_token_is_refreshed_once_for_20_concurrent_replies(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeChat,
        channel: WeChatChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    assert await post_text(client, channel, "warm", "你好", "65000") == 200
    await channel.drain()
    fake.expire_tokens()
    await asyncio.gather(*(post_text(client, channel, f"o{i}", f"问{i}", f"{65001 + i}")
                           for i in range(20)))
    await channel.drain()
    assert fake.token_fetches == 2 and len(fake.sent) == 21


async def test_an_image_gets_a_polite_reply_and_follow_greets(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeWeChat) -> None:
    channel = make_channel(fake)  # plain mode is enough here
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    query, _, _ = wechat_plain_query(TOKEN, openid=OPENID)
    image = wechat_text_xml(OPENID, "", "66001", msg_type="image").encode()
    assert (await client.post(f"{PATH}?{query}", data=image)).status == 200
    follow = (f"<xml><ToUserName>gh</ToUserName><FromUserName>{OPENID}</FromUserName>"
              "<CreateTime>1700000000</CreateTime><MsgType>event</MsgType>"
              "<Event>subscribe</Event></xml>").encode()
    assert (await client.post(f"{PATH}?{query}", data=follow)).status == 200
    await channel.drain()
    assert "图片" in fake.sent[0]["text"]["content"]
    assert [r["message"] for r in fake_rasa.received] == ["/greet"]

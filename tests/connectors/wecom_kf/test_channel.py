"""WeChat Customer Service end to end: callback → sync_msg pull → bot → send_msg."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from casedb.repositories import ChannelCursorRepository
from connectors import tokens
from connectors.wecom_kf import WeComKfChannel, WeComKfSettings
from connectors.wxcrypt import WXBizMsgCrypt
from tests.conftest import Client, Database, FakeRasa
from tests.connectors.fakes import FakeWeCom, serve, start_gateway, wx_encrypted_callback

CORP_ID = "ww-test-corp"
TOKEN = "kfToken123"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
PATH = "/channels/wecom-kf/callback"
KF = "wkAbCdEf"
EVENT_TOKEN = "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"
CRYPT = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.01)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    async with serve(FakeWeCom(corp_id=CORP_ID, secrets=("kf-secret",),
                               kf_event_token=EVENT_TOKEN)) as fake:
        yield fake


def make_channel(fake: FakeWeCom) -> WeComKfChannel:
    settings = WeComKfSettings.from_env({
        "WECOM_CORP_ID": CORP_ID, "WECOM_KF_SECRET": "kf-secret", "WECOM_KF_TOKEN": TOKEN,
        "WECOM_KF_ENCODING_AES_KEY": AES_KEY, "WECOM_KF_API_BASE": fake.url})
    assert settings is not None
    return WeComKfChannel(settings)


@pytest.fixture
def channel(fake: FakeWeCom) -> WeComKfChannel:
    return make_channel(fake)


def item(msgid: str, user: str, text: str | None = "你好", *, origin: int = 3,
         msgtype: str = "text") -> dict[str, Any]:
    out: dict[str, Any] = {"msgid": msgid, "open_kfid": KF, "external_userid": user,
                           "send_time": int(time.time()), "origin": origin, "msgtype": msgtype}
    if msgtype == "text":
        out["text"] = {"content": text}
    elif msgtype == "image":
        out["image"] = {"media_id": "m"}
    return out


def event_xml() -> str:
    return ("<xml><ToUserName><![CDATA[ww-test-corp]]></ToUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[kf_msg_or_event]]></Event>"
            f"<Token><![CDATA[{EVENT_TOKEN}]]></Token><OpenKfId><![CDATA[{KF}]]></OpenKfId>"
            "</xml>")


async def notify(client: Client, **kwargs: Any) -> int:
    query, body = wx_encrypted_callback(CRYPT, event_xml(), to_user=CORP_ID, **kwargs)
    resp = await client.post(f"{PATH}?{query}", data=body)
    return resp.status


async def stored_cursor(db: Database) -> str | None:
    async with db.sessions() as session:
        return await ChannelCursorRepository(session).get("wecom_kf", KF)


async def test_a_text_message_is_pulled_and_answered_once(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel) -> None:
    client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
    fake.kf_messages = [item("m1", "wmUser1", "我想咨询劳动纠纷")]
    assert await notify(client) == 200
    await channel.drain()
    assert fake.kf_sync_calls[0] == {"limit": 1000, "voice_format": 0, "open_kfid": KF,
                                     "token": EVENT_TOKEN}
    assert fake_rasa.received[0]["sender"] == f"wecom_kf:{KF}:wmUser1"
    assert fake.sent == [{"touser": "wmUser1", "open_kfid": KF, "msgtype": "text",
                          "text": {"content": "收到:我想咨询劳动纠纷"}}]
    assert await stored_cursor(database) == "1"


async def test_the_same_callback_three_times_gives_one_reply(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.kf_messages = [item("m1", "wmUser1")]
    query, body = wx_encrypted_callback(CRYPT, event_xml(), to_user=CORP_ID)
    statuses = await asyncio.gather(*(client.post(f"{PATH}?{query}", data=body)
                                      for _ in range(3)))
    assert [r.status for r in statuses] == [200, 200, 200]
    await channel.drain()
    assert len(fake_rasa.received) == 1 and len(fake.sent) == 1


async def test_a_restart_neither_replays_nor_loses_messages(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa,
        fake: FakeWeCom) -> None:
    first = make_channel(fake)
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, first)
    fake.kf_messages = [item("m1", "wmUser1", "第一条")]
    assert await notify(client) == 200
    await first.drain()
    await client.close()

    fake.kf_messages.append(item("m2", "wmUser1", "第二条"))
    second = make_channel(fake)  # a new process: nothing in memory
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, second)
    assert await notify(client) == 200
    await second.drain()
    assert fake.kf_sync_calls[-1]["cursor"] == "1"
    assert [r["message"] for r in fake_rasa.received] == ["第一条", "第二条"]
    assert [m["text"]["content"] for m in fake.sent] == ["收到:第一条", "收到:第二条"]
    assert await stored_cursor(sqlite_database) == "2"


async def test_pages_are_followed_while_has_more(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.kf_page_size = 2
    fake.kf_messages = [item(f"m{i}", "wmUser1", f"消息{i}") for i in range(5)]
    assert await notify(client) == 200
    await channel.drain()
    assert [c.get("cursor") for c in fake.kf_sync_calls] == [None, "2", "4"]
    assert [r["message"] for r in fake_rasa.received] == [f"消息{i}" for i in range(5)]


async def test_only_customer_messages_are_answered_and_media_gets_a_polite_reply(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.kf_messages = [item("s1", "wmUser1", "人工回复", origin=5),
                        item("e1", "wmUser1", None, origin=4, msgtype="event"),
                        item("i1", "wmUser2", None, msgtype="image")]
    assert await notify(client) == 200
    await channel.drain()
    assert fake_rasa.received == []
    [sent] = fake.sent
    assert sent["touser"] == "wmUser2" and "图片" in sent["text"]["content"]


async def test_more_than_five_bubbles_are_merged(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel) -> None:
    fake_rasa.replies = lambda body: [{"text": f"第{i}段"} for i in range(8)]
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.kf_messages = [item("m1", "wmUser1")]
    assert await notify(client) == 200
    await channel.drain()
    assert 1 <= len(fake.sent) <= 5
    assert "\n\n".join(m["text"]["content"] for m in fake.sent) == "\n\n".join(
        f"第{i}段" for i in range(8))


@pytest.mark.parametrize("case", ["forged", "stale"])
async def test_unverifiable_callbacks_pull_nothing(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel, case: str) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.kf_messages = [item("m1", "wmUser1")]
    kwargs: dict[str, Any] = ({"token": "forged"} if case == "forged"
                              else {"timestamp": int(time.time()) - 3600})
    assert await notify(client, **kwargs) in (401, 403)
    await channel.drain()
    assert fake.kf_sync_calls == [] and fake_rasa.received == [] and fake.sent == []


async def test_an_expired_token_is_refreshed_once_for_20_concurrent_replies(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    fake.kf_messages = [item("w", "wmWarm")]
    assert await notify(client) == 200
    await channel.drain()
    fake.expire_tokens()
    fake.kf_messages += [item(f"m{i}", f"wmUser{i}", f"问题{i}") for i in range(20)]
    # sync_msg is the first to meet the expired token; it refreshes, the 20 sends reuse it
    assert await notify(client) == 200
    await channel.drain()
    assert fake.token_fetches == 2
    assert len(fake.sent) == 21


async def test_20_concurrent_sends_with_an_expired_token_refresh_it_once(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa, fake: FakeWeCom,
        channel: WeComKfChannel) -> None:
    from connectors.base import OutboundMessage
    await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel)
    await channel.send(f"{KF}:wmWarm", [OutboundMessage(text="预热")])
    fake.expire_tokens()
    await asyncio.gather(*(channel.send(f"{KF}:wmUser{i}", [OutboundMessage(text="提醒")])
                           for i in range(20)))
    assert fake.token_fetches == 2 and len(fake.sent) == 21

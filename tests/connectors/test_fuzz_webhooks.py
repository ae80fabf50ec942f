"""Fuzzing every platform webhook through the real gateway app: correctly signed (and
encrypted) requests with arbitrary contents, and unsigned garbage. The answer is always 200 or
a 4xx, never a 5xx, and no background turn crashes."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import tokens
from connectors.dingtalk import DingTalkChannel, DingTalkSettings
from connectors.feishu import FeishuChannel, FeishuSettings
from connectors.platform import PlatformChannel
from connectors.wechat import WeChatChannel, WeChatSettings
from connectors.wecom import WeComChannel, WeComSettings
from connectors.wxcrypt import WXBizMsgCrypt
from tests.conftest import Client, Database, FakeRasa
from tests.connectors.fakes import (
    FakeDingTalk,
    FakeFeishu,
    FakeWeChat,
    FakeWeCom,
    dingtalk_headers,
    feishu_request,
    serve,
    start_gateway,
    wechat_plain_query,
    wx_encrypted_callback,
)

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
CORP_ID = "ww-test-corp"
WX_TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
WECHAT_APP = "wx-test-app"
DING_KEY, DING_SECRET = "ding-test-key", "SECtestsecret"
FEISHU_KEY, FEISHU_TOKEN = "test key", "verification-token"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=12)
# Text people (or attackers) type: anything, plus the classes the issue names.
hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["'; DROP TABLE message_log; --", "<script>alert(1)</script>", "😀" * 50,
                     "\x00\x01\x1b[31m", "字" * 2500, "]]><xml>", "&amp;&lt;", "1"]))


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BACKOFF_BASE", 0.001)


@pytest.fixture
def crashes(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger="connectors.platform")
    return caplog


def assert_no_crash(caplog: pytest.LogCaptureFixture) -> None:
    failures = [r.getMessage() for r in caplog.records if r.name == "connectors.platform"
                and "failed" in r.getMessage()]
    assert failures == []


async def drained(channel: PlatformChannel) -> None:
    await channel.drain()


# -- WeCom ----------------------------------------------------------------------------------


@pytest.fixture
async def wecom(aiohttp_client: Any, sqlite_database: Database,
                fake_rasa: FakeRasa) -> AsyncIterator[tuple[Client, WeComChannel]]:
    async with serve(FakeWeCom(corp_id=CORP_ID)) as fake:
        settings_ = WeComSettings.from_env({
            "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "app-secret",
            "WECOM_TOKEN": WX_TOKEN, "WECOM_ENCODING_AES_KEY": AES_KEY,
            "WECOM_API_BASE": fake.url})
        assert settings_ is not None
        channel = WeComChannel(settings_)
        yield await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel), channel


def _wx_inner(fields: dict[str, str], raw_tail: str) -> str:
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<xml>{body}{raw_tail}</xml>"


wx_fields = st.fixed_dictionaries(
    {"FromUserName": st.text(min_size=1, max_size=20), "MsgType": st.sampled_from(
        ["text", "text", "image", "voice", "event", ""])},
    optional={"Content": hostile_text, "MsgId": st.text(max_size=20),
              "Event": st.sampled_from(["subscribe", "click", "x"]),
              "EventKey": st.text(max_size=20), "CreateTime": st.text(max_size=12)})


@FUZZ
@given(fields=wx_fields, tail=st.text(max_size=40))
async def test_wecom_signed_callbacks_with_any_content(
        wecom: tuple[Client, WeComChannel], crashes: pytest.LogCaptureFixture,
        fields: dict[str, str], tail: str) -> None:
    client, channel = wecom
    crypt = WXBizMsgCrypt(WX_TOKEN, AES_KEY, CORP_ID)
    query, body = wx_encrypted_callback(crypt, _wx_inner(fields, tail), to_user=CORP_ID)
    resp = await client.post(f"/channels/wecom/callback?{query}", data=body)
    assert resp.status in (200, 400)
    await drained(channel)
    assert_no_crash(crashes)


@FUZZ
@given(body=st.binary(max_size=2000), query=st.text(max_size=100))
async def test_wecom_unsigned_garbage(wecom: tuple[Client, WeComChannel], body: bytes,
                                      query: str) -> None:
    client, _ = wecom
    resp = await client.post("/channels/wecom/callback", params={"q": query}, data=body)
    assert 400 <= resp.status < 500


# -- WeChat Official Account (plain mode) ---------------------------------------------------


@pytest.fixture
async def wechat(aiohttp_client: Any, sqlite_database: Database,
                 fake_rasa: FakeRasa) -> AsyncIterator[tuple[Client, WeChatChannel]]:
    async with serve(FakeWeChat(app_id=WECHAT_APP, app_secret="wechat-secret")) as fake:
        settings_ = WeChatSettings.from_env({
            "WECHAT_APP_ID": WECHAT_APP, "WECHAT_APP_SECRET": "wechat-secret",
            "WECHAT_TOKEN": WX_TOKEN, "WECHAT_API_BASE": fake.url})
        assert settings_ is not None
        channel = WeChatChannel(settings_)
        yield await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel), channel


@FUZZ
@given(fields=wx_fields, tail=st.text(max_size=40), raw=st.none() | st.binary(max_size=500))
async def test_wechat_signed_callbacks_with_any_body(
        wechat: tuple[Client, WeChatChannel], crashes: pytest.LogCaptureFixture,
        fields: dict[str, str], tail: str, raw: bytes | None) -> None:
    client, channel = wechat
    query, _, _ = wechat_plain_query(WX_TOKEN)
    body = raw if raw is not None else _wx_inner(fields, tail).encode("utf-8", "surrogatepass")
    resp = await client.post(f"/channels/wechat/callback?{query}", data=body)
    assert resp.status in (200, 400)
    await drained(channel)
    assert_no_crash(crashes)


async def test_wechat_entity_expansion_is_refused(
        wechat: tuple[Client, WeChatChannel]) -> None:
    client, _ = wechat
    query, _, _ = wechat_plain_query(WX_TOKEN)
    bomb = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<xml><FromUserName>u</FromUserName><MsgType>text</MsgType>"
            b"<Content>&b;</Content><MsgId>1</MsgId></xml>")
    assert (await client.post(f"/channels/wechat/callback?{query}", data=bomb)).status == 400


# -- DingTalk -------------------------------------------------------------------------------


@pytest.fixture
async def dingtalk(aiohttp_client: Any, sqlite_database: Database,
                   fake_rasa: FakeRasa) -> AsyncIterator[tuple[Client, DingTalkChannel]]:
    async with serve(FakeDingTalk(app_key=DING_KEY, app_secret=DING_SECRET)) as fake:
        settings_ = DingTalkSettings.from_env({"DINGTALK_APP_KEY": DING_KEY,
                                               "DINGTALK_APP_SECRET": DING_SECRET,
                                               "DINGTALK_API_BASE": fake.url})
        assert settings_ is not None
        channel = DingTalkChannel(settings_)
        yield await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel), channel


ding_bodies = st.fixed_dictionaries(
    {"msgId": st.text(min_size=1, max_size=20), "senderStaffId": st.text(max_size=10),
     "conversationType": st.sampled_from(["1", "2", 1, None]),
     "msgtype": st.sampled_from(["text", "text", "picture", "", None])},
    optional={"conversationId": json_values, "senderId": json_values,
              "text": st.fixed_dictionaries({"content": hostile_text}) | json_values})


@FUZZ
@given(body=ding_bodies | json_values)
async def test_dingtalk_signed_requests_with_any_body(
        dingtalk: tuple[Client, DingTalkChannel], crashes: pytest.LogCaptureFixture,
        body: Any) -> None:
    client, channel = dingtalk
    resp = await client.post("/channels/dingtalk/robot", data=json.dumps(body).encode(),
                             headers=dingtalk_headers(DING_SECRET))
    assert resp.status in (200, 400)
    await drained(channel)
    assert_no_crash(crashes)


@FUZZ
@given(raw=st.binary(max_size=2000))
async def test_dingtalk_signed_garbage_bytes(dingtalk: tuple[Client, DingTalkChannel],
                                             raw: bytes) -> None:
    client, _ = dingtalk
    resp = await client.post("/channels/dingtalk/robot", data=raw,
                             headers=dingtalk_headers(DING_SECRET))
    assert resp.status in (200, 400)


async def test_dingtalk_deep_json_is_a_400(dingtalk: tuple[Client, DingTalkChannel]) -> None:
    client, _ = dingtalk
    resp = await client.post("/channels/dingtalk/robot", data=b"[" * 30000 + b"]" * 30000,
                             headers=dingtalk_headers(DING_SECRET))
    assert resp.status == 400


# -- Feishu ---------------------------------------------------------------------------------


@pytest.fixture
async def feishu(aiohttp_client: Any, sqlite_database: Database,
                 fake_rasa: FakeRasa) -> AsyncIterator[tuple[Client, FeishuChannel]]:
    async with serve(FakeFeishu(app_id="cli_test", app_secret="feishu-secret")) as fake:
        settings_ = FeishuSettings.from_env({
            "FEISHU_APP_ID": "cli_test", "FEISHU_APP_SECRET": "feishu-secret",
            "FEISHU_VERIFICATION_TOKEN": FEISHU_TOKEN, "FEISHU_ENCRYPT_KEY": FEISHU_KEY,
            "FEISHU_API_BASE": fake.url})
        assert settings_ is not None
        channel = FeishuChannel(settings_)
        yield await start_gateway(aiohttp_client, sqlite_database, fake_rasa, channel), channel


feishu_events = st.fixed_dictionaries({
    "schema": st.just("2.0"),
    "header": st.fixed_dictionaries({
        "event_id": st.text(min_size=1, max_size=20), "token": st.just(FEISHU_TOKEN),
        "event_type": st.sampled_from(["im.message.receive_v1", "x"])}),
    "event": st.fixed_dictionaries({
        "sender": st.fixed_dictionaries({
            "sender_type": st.sampled_from(["user", "app"]),
            "sender_id": st.fixed_dictionaries({"open_id": st.text(max_size=12)})}),
        "message": st.fixed_dictionaries({
            "message_id": st.text(max_size=12), "chat_id": st.text(max_size=12),
            "chat_type": st.sampled_from(["p2p", "group"]),
            "message_type": st.sampled_from(["text", "text", "image"]),
            "content": st.one_of(hostile_text.map(lambda t: json.dumps({"text": t})),
                                 st.text(max_size=50), json_values)})})})


@FUZZ
@given(event=feishu_events | st.dictionaries(st.text(max_size=8), json_values, max_size=4))
async def test_feishu_signed_events_with_any_content(
        feishu: tuple[Client, FeishuChannel], crashes: pytest.LogCaptureFixture,
        event: dict[str, Any]) -> None:
    client, channel = feishu
    headers, body = feishu_request(FEISHU_KEY, event)
    resp = await client.post("/channels/feishu/events", data=body, headers=headers)
    assert resp.status in (200, 400, 403)
    await drained(channel)
    assert_no_crash(crashes)


@FUZZ
@given(raw=st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()))
async def test_feishu_garbage(feishu: tuple[Client, FeishuChannel], raw: bytes) -> None:
    client, _ = feishu
    resp = await client.post("/channels/feishu/events", data=raw)
    assert 400 <= resp.status < 500

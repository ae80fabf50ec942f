"""Fake platform servers on loopback, speaking the real HTTP shapes (channels.md), and helpers
that play the platform's side of a webhook (signing, encrypting) and start the gateway.

Each fake issues access tokens (`token_fetches` counts them), can invalidate them all at once
(`expire_tokens()`: the next call with an old token gets the platform's expiry error), can be
told to fail the next sends (`fail_next`), and records every accepted send in `sent`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.base import Channel
from connectors.feishu.crypto import encrypt as feishu_encrypt
from connectors.feishu.crypto import signature as feishu_signature
from connectors.wxcrypt import WXBizMsgCrypt
from gateway.app import create_app
from gateway.keys import channels_key
from gateway.settings import Settings
from tests.conftest import Client, Database, FakeRasa

F = TypeVar("F", bound="FakePlatform")


@dataclass
class FakePlatform:
    url: str = ""
    token_fetches: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[dict[str, Any]] = field(default_factory=list)  # answers to give first
    send_attempts: int = 0

    def issue_token(self) -> str:
        self.token_fetches += 1
        token = f"token-{self.token_fetches}-{os.urandom(4).hex()}"
        self.valid_tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def app(self) -> web.Application:
        raise NotImplementedError


@asynccontextmanager
async def serve(fake: F) -> AsyncIterator[F]:
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


async def start_gateway(aiohttp_client: Any, db: Database, fake_rasa: FakeRasa,
                        *channels: Channel, **overrides: Any) -> Client:
    """The real gateway app (web channel included) with `channels` registered, as the lead's
    `gateway/app.py` will do with `platform_channels(os.environ)`; `overrides` are Settings."""
    values: dict[str, Any] = dict(
        database_url=db.url, database_schema=db.schema, rasa_url=fake_rasa.url,
        rasa_token=fake_rasa.token, action_server_url=fake_rasa.url,
        web_session_secret="x" * 40)
    values.update(overrides)
    app = create_app(Settings(**values))
    for channel in channels:
        channel.register(app)
        app[channels_key][channel.name] = channel
    client: Client = await aiohttp_client(app)
    return client


def _wx_error(code: int, msg: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": msg})


# -- WeCom (企业微信) and WeChat Customer Service (微信客服) ------------------------------------


@dataclass
class FakeWeCom(FakePlatform):
    corp_id: str = "ww-test-corp"
    secrets: tuple[str, ...] = ("app-secret",)
    kf_messages: list[dict[str, Any]] = field(default_factory=list)  # what sync_msg returns
    kf_sync_calls: list[dict[str, Any]] = field(default_factory=list)
    kf_event_token: str = ""
    kf_page_size: int = 1000

    def app(self) -> web.Application:
        async def gettoken(request: web.Request) -> web.Response:
            if (request.query.get("corpid") != self.corp_id
                    or request.query.get("corpsecret") not in self.secrets):
                return _wx_error(40013, "invalid corpid or corpsecret")
            return web.json_response({"errcode": 0, "errmsg": "ok",
                                      "access_token": self.issue_token(), "expires_in": 7200})

        def token_error(request: web.Request) -> web.Response | None:
            token = request.query.get("access_token", "")
            if not token:
                return _wx_error(41001, "access_token missing")
            if token not in self.valid_tokens:
                return _wx_error(42001, "access_token expired")
            return None

        async def message_send(request: web.Request) -> web.Response:
            self.send_attempts += 1
            if (error := token_error(request)) is not None:
                return error
            if self.fail_next:
                return web.json_response(self.fail_next.pop(0))
            body = await request.json()
            content = body.get("text", {}).get("content")
            if (not isinstance(body.get("touser"), str) or body.get("msgtype") != "text"
                    or not isinstance(body.get("agentid"), int) or not isinstance(content, str)):
                return _wx_error(40008, "invalid message type")
            if len(content.encode()) > 2048:
                return _wx_error(44004, "content too long")
            self.sent.append(body)
            return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": str(len(self.sent))})

        async def kf_sync_msg(request: web.Request) -> web.Response:
            if (error := token_error(request)) is not None:
                return error
            body = await request.json()
            self.kf_sync_calls.append(body)
            if self.kf_event_token and body.get("token") != self.kf_event_token:
                return _wx_error(95007, "invalid msg token")
            start = int(body.get("cursor") or 0)
            limit = min(int(body.get("limit", 1000)), self.kf_page_size)
            page = [m for m in self.kf_messages[start:start + limit]
                    if m["open_kfid"] == body.get("open_kfid")]
            end = min(start + limit, len(self.kf_messages))
            return web.json_response({"errcode": 0, "errmsg": "ok", "next_cursor": str(end),
                                      "has_more": int(end < len(self.kf_messages)),
                                      "msg_list": page})

        async def kf_send_msg(request: web.Request) -> web.Response:
            self.send_attempts += 1
            if (error := token_error(request)) is not None:
                return error
            if self.fail_next:
                return web.json_response(self.fail_next.pop(0))
            body = await request.json()
            content = body.get("text", {}).get("content")
            if (not body.get("touser") or not body.get("open_kfid")
                    or body.get("msgtype") != "text" or not isinstance(content, str)):
                return _wx_error(40008, "invalid message type")
            if len(content.encode()) > 2048:
                return _wx_error(44004, "content too long")
            self.sent.append(body)
            return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": str(len(self.sent))})

        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", gettoken)
        app.router.add_post("/cgi-bin/message/send", message_send)
        app.router.add_post("/cgi-bin/kf/sync_msg", kf_sync_msg)
        app.router.add_post("/cgi-bin/kf/send_msg", kf_send_msg)
        return app


def wx_encrypted_callback(crypt: WXBizMsgCrypt, plain_xml: str, *, to_user: str,
                          timestamp: int | None = None, agent_id: str = "",
                          token: str | None = None) -> tuple[str, bytes]:
    """The query string and body WeCom (or a safe-mode Official Account) POSTs."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = os.urandom(4).hex()
    encrypted = crypt.encrypt_text(plain_xml)
    signer = crypt if token is None else WXBizMsgCrypt(token, crypt.encoding_aes_key,
                                                       crypt.receive_id)
    sig = signer.signature(ts, nonce, encrypted)
    agent = f"<AgentID><![CDATA[{agent_id}]]></AgentID>" if agent_id else ""
    body = (f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>{agent}"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
    return f"msg_signature={sig}&timestamp={ts}&nonce={nonce}", body


def wx_url_check(crypt: WXBizMsgCrypt, echo: str, *, timestamp: int | None = None,
                 encode_plus: bool = True) -> str:
    """The query of WeCom's URL verification GET (echostr percent-encoded as WeCom does)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = os.urandom(4).hex()
    echostr = crypt.encrypt_text(echo)
    sig = crypt.signature(ts, nonce, echostr)
    quoted = quote(echostr, safe="") if encode_plus else echostr
    return f"msg_signature={sig}&timestamp={ts}&nonce={nonce}&echostr={quoted}"


def wecom_text_xml(sender: str, content: str, msg_id: str, *, corp_id: str,
                   msg_type: str = "text", create_time: int = 1476422779) -> str:
    body = (f"<Content><![CDATA[{content}]]></Content>" if msg_type == "text"
            else "<MediaId><![CDATA[media-1]]></MediaId>")
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
            f"{body}<MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>")


# -- WeChat Official Account (公众号) -----------------------------------------------------------


@dataclass
class FakeWeChat(FakePlatform):
    app_id: str = "wx-test-app"
    app_secret: str = "wechat-secret"

    def app(self) -> web.Application:
        async def stable_token(request: web.Request) -> web.Response:
            body = await request.json()
            if (body.get("grant_type") != "client_credential" or body.get("appid") != self.app_id
                    or body.get("secret") != self.app_secret):
                return _wx_error(40013, "invalid appid")
            return web.json_response({"access_token": self.issue_token(), "expires_in": 7200})

        async def custom_send(request: web.Request) -> web.Response:
            self.send_attempts += 1
            token = request.query.get("access_token", "")
            if token not in self.valid_tokens:
                return _wx_error(40001, "invalid credential, access_token is invalid")
            if self.fail_next:
                return web.json_response(self.fail_next.pop(0))
            body = await request.json()
            if (not body.get("touser") or body.get("msgtype") != "text"
                    or not isinstance(body.get("text", {}).get("content"), str)):
                return _wx_error(40008, "invalid message type")
            self.sent.append(body)
            return _wx_error(0, "ok")

        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", stable_token)
        app.router.add_post("/cgi-bin/message/custom/send", custom_send)
        return app


def wechat_plain_query(token: str, *, timestamp: int | None = None,
                       openid: str = "") -> tuple[str, str, str]:
    """(query, timestamp, nonce) of a plain-mode Official Account request."""
    from connectors.wxcrypt import sha1_signature
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = os.urandom(4).hex()
    sig = sha1_signature(token, ts, nonce)
    query = f"signature={sig}&timestamp={ts}&nonce={nonce}"
    return (query + (f"&openid={openid}" if openid else "")), ts, nonce


def wechat_text_xml(openid: str, content: str, msg_id: str, *, msg_type: str = "text",
                    create_time: int = 1409735668) -> str:
    body = (f"<Content><![CDATA[{content}]]></Content>" if msg_type == "text"
            else "<MediaId><![CDATA[media-1]]></MediaId>")
    return (f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
            f"{body}<MsgId>{msg_id}</MsgId></xml>")


# -- DingTalk (钉钉) -----------------------------------------------------------------------------


@dataclass
class FakeDingTalk(FakePlatform):
    app_key: str = "ding-test-key"
    app_secret: str = "SECtestsecret"

    def app(self) -> web.Application:
        async def access_token(request: web.Request) -> web.Response:
            body = await request.json()
            if body.get("appKey") != self.app_key or body.get("appSecret") != self.app_secret:
                return web.json_response({"code": "invalidClientIdOrSecret",
                                          "message": "无效的clientId或者clientSecret"},
                                         status=400)
            return web.json_response({"accessToken": self.issue_token(), "expireIn": 7200})

        async def robot_send(request: web.Request) -> web.Response:
            self.send_attempts += 1
            if request.headers.get("x-acs-dingtalk-access-token") not in self.valid_tokens:
                return web.json_response({"code": "InvalidAuthentication",
                                          "message": "不合法的access_token"}, status=401)
            if self.fail_next:
                answer = self.fail_next.pop(0)
                return web.json_response(answer, status=int(answer.get("status", 500)))
            body = await request.json()
            param = json.loads(body.get("msgParam", "{}"))
            if (body.get("robotCode") != self.app_key or body.get("msgKey") != "sampleText"
                    or not isinstance(param.get("content"), str)):
                return web.json_response({"code": "invalidParameter", "message": "bad"},
                                         status=400)
            self.sent.append({"path": request.path, **body, "content": param["content"]})
            return web.json_response({"processQueryKey": f"q{len(self.sent)}"})

        app = web.Application()
        app.router.add_post("/v1.0/oauth2/accessToken", access_token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", robot_send)
        app.router.add_post("/v1.0/robot/groupMessages/send", robot_send)
        return app


def dingtalk_headers(app_secret: str, *, timestamp_ms: int | None = None) -> dict[str, str]:
    ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    digest = hmac.new(app_secret.encode(), f"{ts}\n{app_secret}".encode(), hashlib.sha256)
    return {"timestamp": ts, "sign": base64.b64encode(digest.digest()).decode()}


def dingtalk_text(sender_staff_id: str, content: str, msg_id: str, *,
                  conversation_type: str = "1", msgtype: str = "text") -> dict[str, Any]:
    body: dict[str, Any] = {
        "conversationId": "cidTestConversation==", "conversationType": conversation_type,
        "conversationTitle": "测试群" if conversation_type == "2" else "",
        "msgId": msg_id, "msgtype": msgtype, "createAt": int(time.time() * 1000),
        "senderId": f"$:LWCP_v1:${sender_staff_id}", "senderNick": "张三",
        "senderStaffId": sender_staff_id, "senderCorpId": "ding-corp",
        "chatbotUserId": "$:LWCP_v1:$bot", "robotCode": "ding-test-key", "isInAtList": True,
        "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=x",
        "sessionWebhookExpiredTime": int(time.time() * 1000) + 3_600_000,
    }
    if msgtype == "text":
        body["text"] = {"content": content}
    else:
        body["content"] = {"downloadCode": "x"}
    return body


# -- Feishu (飞书) -------------------------------------------------------------------------------


@dataclass
class FakeFeishu(FakePlatform):
    app_id: str = "cli_test"
    app_secret: str = "feishu-secret"
    uuids: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> web.Application:
        async def tenant_token(request: web.Request) -> web.Response:
            body = await request.json()
            if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
                return web.json_response({"code": 10014, "msg": "app secret invalid"})
            return web.json_response({"code": 0, "msg": "ok",
                                      "tenant_access_token": self.issue_token(),
                                      "expire": 7200})

        async def send(request: web.Request) -> web.Response:
            self.send_attempts += 1
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or token not in self.valid_tokens:
                return web.json_response({"code": 99991663, "msg": "Invalid access token for "
                                          "authorization. Please make a request with token "
                                          "attached."}, status=400)
            if self.fail_next:
                answer = self.fail_next.pop(0)
                return web.json_response(answer, status=int(answer.get("status", 500)))
            body = await request.json()
            if body.get("msg_type") != "text":
                return web.json_response({"code": 230001, "msg": "bad msg_type"}, status=400)
            content = json.loads(body["content"])
            uuid = body.get("uuid")
            if uuid and uuid in self.uuids:  # idempotent: the same uuid sends once
                return web.json_response({"code": 0, "msg": "success", "data": self.uuids[uuid]})
            record = {"path": request.path, "query": dict(request.query), **body,
                      "text": content["text"]}
            self.sent.append(record)
            data = {"message_id": f"om_sent_{len(self.sent)}"}
            if uuid:
                self.uuids[uuid] = data
            return web.json_response({"code": 0, "msg": "success", "data": data})

        app = web.Application()
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", tenant_token)
        app.router.add_post("/open-apis/im/v1/messages", send)
        app.router.add_post("/open-apis/im/v1/messages/{message_id}/reply", send)
        return app


def feishu_request(encrypt_key: str, event: dict[str, Any], *, timestamp: int | None = None,
                   sign_key: str | None = None) -> tuple[dict[str, str], bytes]:
    """Headers and raw body Feishu POSTs for `event` when an Encrypt Key is set."""
    body = json.dumps({"encrypt": feishu_encrypt(encrypt_key, json.dumps(event))}).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = os.urandom(4).hex()
    sig = feishu_signature(ts, nonce, sign_key if sign_key is not None else encrypt_key, body)
    return ({"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
             "X-Lark-Signature": sig, "Content-Type": "application/json"}, body)


def feishu_text_event(open_id: str, text: str, event_id: str, *, token: str,
                      chat_type: str = "p2p", message_type: str = "text",
                      message_id: str | None = None) -> dict[str, Any]:
    content = json.dumps({"text": text}) if message_type == "text" else json.dumps(
        {"file_key": "x"})
    return {
        "schema": "2.0",
        "header": {"event_id": event_id, "event_type": "im.message.receive_v1",
                   "create_time": str(int(time.time() * 1000)), "token": token,
                   "app_id": "cli_test", "tenant_key": "tenant"},
        "event": {
            "sender": {"sender_id": {"open_id": open_id, "user_id": "u1", "union_id": "on_1"},
                       "sender_type": "user", "tenant_key": "tenant"},
            "message": {"message_id": message_id or f"om_{event_id}", "chat_id": "oc_chat1",
                        "chat_type": chat_type, "message_type": message_type,
                        "content": content, "create_time": str(int(time.time() * 1000))},
        },
    }


Handler = Callable[[dict[str, Any]], list[dict[str, Any]]]

"""DingTalk OpenAPI (channels.md §4.1): app access token and robot messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from connectors.tokens import (
    PlatformError,
    Token,
    TokenCache,
    TokenExpired,
    request_json,
    with_retries,
    with_token,
)

DEFAULT_API_BASE = "https://api.dingtalk.com"
TOKEN_ERROR_CODES = frozenset({"InvalidAuthentication"})


def check_answer(status: int, data: Any, what: str) -> Mapping[str, Any]:
    body = data if isinstance(data, Mapping) else {}
    if 200 <= status < 300:
        return body
    code = body.get("code")
    message = f"{what}: HTTP {status} {code} {body.get('message', '')}".strip()
    if status == 401 or code in TOKEN_ERROR_CODES:
        raise TokenExpired(message, code=code)
    raise PlatformError(message, code=code, retryable=str(code).startswith("Throttling"))


class DingTalkAPI:
    def __init__(self, http: aiohttp.ClientSession, *, app_key: str, app_secret: str,
                 robot_code: str, api_base: str = DEFAULT_API_BASE) -> None:
        self._http = http
        self._app_key = app_key
        self._app_secret = app_secret
        self._robot_code = robot_code
        self._base = api_base.rstrip("/")
        self.tokens = TokenCache(self._fetch_token)

    async def _fetch_token(self) -> Token:
        async def once() -> Token:
            status, data = await request_json(
                self._http, "POST", f"{self._base}/v1.0/oauth2/accessToken",
                json={"appKey": self._app_key, "appSecret": self._app_secret})
            if not 200 <= status < 300 or not isinstance(data, Mapping):
                raise PlatformError(f"accessToken: HTTP {status} {data}")
            token = data.get("accessToken")
            if not isinstance(token, str) or not token:
                raise PlatformError("accessToken: no accessToken in the answer")
            return Token(token, float(data.get("expireIn", 7200)))
        return await with_retries(once, what="dingtalk accessToken")

    async def post(self, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        async def call(token: str) -> Mapping[str, Any]:
            status, data = await request_json(
                self._http, "POST", f"{self._base}{path}", json=dict(body),
                headers={"x-acs-dingtalk-access-token": token})
            return check_answer(status, data, path)
        return await with_token(self.tokens, call, what=f"dingtalk {path}")

    def _text(self, content: str) -> dict[str, Any]:
        return {"robotCode": self._robot_code, "msgKey": "sampleText",
                "msgParam": json.dumps({"content": content}, ensure_ascii=False)}

    async def send_to_user(self, staff_id: str, content: str) -> None:
        await self.post("/v1.0/robot/oToMessages/batchSend",
                        {**self._text(content), "userIds": [staff_id]})

    async def send_to_group(self, open_conversation_id: str, content: str) -> None:
        await self.post("/v1.0/robot/groupMessages/send",
                        {**self._text(content), "openConversationId": open_conversation_id})

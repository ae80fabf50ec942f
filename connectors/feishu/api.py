"""Feishu OpenAPI (channels.md §5.7): tenant_access_token, reply and send messages."""

from __future__ import annotations

import json
import uuid
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

DEFAULT_API_BASE = "https://open.feishu.cn"
# Under 30 minutes left, the token endpoint hands out a new token: refresh by then.
TOKEN_MARGIN_SECONDS = 1800
TOKEN_ERROR_CODES = frozenset({99991661, 99991663, 99991664, 99991665, 99991668})
RETRYABLE_CODES = frozenset({99991400})  # request frequency limit


def check_answer(status: int, data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PlatformError(f"{what}: HTTP {status}, answer is not a JSON object")
    code = data.get("code")
    if code == 0 and 200 <= status < 300:
        return data
    message = f"{what}: HTTP {status} code {code} {data.get('msg', '')}".strip()
    if code in TOKEN_ERROR_CODES:
        raise TokenExpired(message, code=code)
    raise PlatformError(message, code=code, retryable=code in RETRYABLE_CODES)


class FeishuAPI:
    def __init__(self, http: aiohttp.ClientSession, *, app_id: str, app_secret: str,
                 api_base: str = DEFAULT_API_BASE) -> None:
        self._http = http
        self._app_id = app_id
        self._app_secret = app_secret
        self._base = api_base.rstrip("/")
        self.tokens = TokenCache(self._fetch_token, margin=TOKEN_MARGIN_SECONDS)

    async def _fetch_token(self) -> Token:
        async def once() -> Token:
            status, data = await request_json(
                self._http, "POST", f"{self._base}/open-apis/auth/v3/tenant_access_token/internal",
                json={"app_id": self._app_id, "app_secret": self._app_secret})
            body = check_answer(status, data, "tenant_access_token")
            token = body.get("tenant_access_token")
            if not isinstance(token, str) or not token:
                raise PlatformError("tenant_access_token: no token in the answer")
            return Token(token, float(body.get("expire", 7200)))
        return await with_retries(once, what="feishu tenant_access_token")

    async def post(self, path: str, body: Mapping[str, Any],
                   params: Mapping[str, str] | None = None) -> Mapping[str, Any]:
        async def call(token: str) -> Mapping[str, Any]:
            status, data = await request_json(
                self._http, "POST", f"{self._base}{path}", params=params, json=dict(body),
                headers={"Authorization": f"Bearer {token}"})
            return check_answer(status, data, path)
        return await with_token(self.tokens, call, what=f"feishu {path}")

    @staticmethod
    def _text(content: str, idempotency_key: str | None) -> dict[str, Any]:
        # `uuid` makes a retried send idempotent (at most 50 characters).
        return {"msg_type": "text", "content": json.dumps({"text": content}, ensure_ascii=False),
                "uuid": (idempotency_key or uuid.uuid4().hex)[:50]}

    async def reply_text(self, message_id: str, content: str,
                         idempotency_key: str | None = None) -> None:
        await self.post(f"/open-apis/im/v1/messages/{message_id}/reply",
                        {**self._text(content, idempotency_key), "reply_in_thread": False})

    async def send_text(self, receive_id: str, content: str,
                        idempotency_key: str | None = None) -> None:
        id_type = "chat_id" if receive_id.startswith("oc_") else "open_id"
        await self.post("/open-apis/im/v1/messages",
                        {**self._text(content, idempotency_key), "receive_id": receive_id},
                        params={"receive_id_type": id_type})

"""WeCom server API: `gettoken` and `message/send` (channels.md §1.5), with a token cache."""

from __future__ import annotations

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

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
# errcodes that mean "this access_token is no good": invalid credential, invalid token, expired.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
BUSY_ERRCODES = frozenset({-1})  # "system busy, try again later"


def check_errcode(data: Any, what: str) -> Mapping[str, Any]:
    """The body of a WeChat-family API answer, or the PlatformError its errcode means."""
    if not isinstance(data, Mapping):
        raise PlatformError(f"{what}: answer is not a JSON object")
    code = data.get("errcode", 0)
    if code == 0:
        return data
    message = f"{what}: errcode {code} {data.get('errmsg', '')}".strip()
    if code in TOKEN_ERRCODES:
        raise TokenExpired(message, code=code)
    raise PlatformError(message, code=code, retryable=code in BUSY_ERRCODES)


class WeComAPI:
    """Calls made with the access token of one WeCom secret (an app's, or 微信客服's)."""

    def __init__(self, http: aiohttp.ClientSession, *, corp_id: str, secret: str,
                 api_base: str = DEFAULT_API_BASE) -> None:
        self._http = http
        self._corp_id = corp_id
        self._secret = secret
        self._base = api_base.rstrip("/")
        self.tokens = TokenCache(self._fetch_token)

    async def _fetch_token(self) -> Token:
        async def once() -> Token:
            _, data = await request_json(
                self._http, "GET", f"{self._base}/cgi-bin/gettoken",
                params={"corpid": self._corp_id, "corpsecret": self._secret})
            body = check_errcode(data, "gettoken")
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise PlatformError("gettoken: no access_token in the answer")
            return Token(token, float(body.get("expires_in", 7200)))
        return await with_retries(once, what="wecom gettoken")

    async def post(self, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """POST `body` to `path` with the access token (refreshed once if rejected)."""
        async def call(token: str) -> Mapping[str, Any]:
            _, data = await request_json(self._http, "POST", f"{self._base}{path}",
                                         params={"access_token": token}, json=dict(body))
            return check_errcode(data, path)
        return await with_token(self.tokens, call, what=f"wecom {path}")

    async def send_text(self, agent_id: int, touser: str, content: str) -> None:
        await self.post("/cgi-bin/message/send", {
            "touser": touser, "msgtype": "text", "agentid": agent_id,
            "text": {"content": content}, "safe": 0})

"""WeChat Official Account API (channels.md §3.4): `stable_token` and the customer-service
message `message/custom/send` (allowed for 48 h after the user's last interaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from connectors.tokens import (
    PlatformError,
    Token,
    TokenCache,
    request_json,
    with_retries,
    with_token,
)
from connectors.wecom.api import check_errcode

DEFAULT_API_BASE = "https://api.weixin.qq.com"


class WeChatAPI:
    def __init__(self, http: aiohttp.ClientSession, *, app_id: str, app_secret: str,
                 api_base: str = DEFAULT_API_BASE) -> None:
        self._http = http
        self._app_id = app_id
        self._secret = app_secret
        self._base = api_base.rstrip("/")
        self.tokens = TokenCache(self._fetch_token)

    async def _fetch_token(self) -> Token:
        # stable_token with force_refresh false returns the same token while it is valid, so
        # several gateway instances can share it (the old /cgi-bin/token invalidates others').
        async def once() -> Token:
            _, data = await request_json(
                self._http, "POST", f"{self._base}/cgi-bin/stable_token",
                json={"grant_type": "client_credential", "appid": self._app_id,
                      "secret": self._secret, "force_refresh": False})
            body = check_errcode(data, "stable_token")
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise PlatformError("stable_token: no access_token in the answer")
            return Token(token, float(body.get("expires_in", 7200)))
        return await with_retries(once, what="wechat stable_token")

    async def post(self, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        async def call(token: str) -> Mapping[str, Any]:
            _, data = await request_json(self._http, "POST", f"{self._base}{path}",
                                         params={"access_token": token}, json=dict(body))
            return check_errcode(data, path)
        return await with_token(self.tokens, call, what=f"wechat {path}")

    async def send_text(self, openid: str, content: str) -> None:
        await self.post("/cgi-bin/message/custom/send",
                        {"touser": openid, "msgtype": "text", "text": {"content": content}})

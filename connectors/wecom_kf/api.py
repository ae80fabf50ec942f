"""WeChat Customer Service API (channels.md §2): `kf/sync_msg` and `kf/send_msg`, with the
access token of the 微信客服 secret (cached per secret by `WeComAPI`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.wecom.api import WeComAPI

SYNC_LIMIT = 1000  # sync_msg: default and maximum page size


class WeComKfAPI(WeComAPI):
    async def sync_msg(self, open_kfid: str, event_token: str,
                       cursor: str | None) -> Mapping[str, Any]:
        body: dict[str, Any] = {"limit": SYNC_LIMIT, "voice_format": 0, "open_kfid": open_kfid}
        if cursor:
            body["cursor"] = cursor
        if event_token:  # without it the call is strictly rate-limited
            body["token"] = event_token
        return await self.post("/cgi-bin/kf/sync_msg", body)

    async def send_kf_text(self, open_kfid: str, touser: str, content: str) -> None:
        await self.post("/cgi-bin/kf/send_msg", {
            "touser": touser, "open_kfid": open_kfid, "msgtype": "text",
            "text": {"content": content}})

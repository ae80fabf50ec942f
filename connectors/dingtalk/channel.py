"""DingTalk robot, HTTP mode: `/channels/dingtalk/robot`.

Checks the `timestamp`/`sign` headers (HMAC with the app secret, one-hour window), answers at
once, and sends the bot's reply with the robot OpenAPI (one-to-one or group). The request's
`sessionWebhook` is not used: the sign does not cover the body, so a replayed request could
point it anywhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from connectors.base import InboundMessage
from connectors.dingtalk.api import DEFAULT_API_BASE, DingTalkAPI
from connectors.dingtalk.crypto import verify_robot_request
from connectors.dingtalk.parse import GROUP_PREFIX, USER_PREFIX, parse_body
from connectors.platform import PlatformChannel
from connectors.wxcrypt import CryptoError

log = logging.getLogger("connectors.dingtalk")

PATH = "/channels/dingtalk/robot"
TEXT_LIMIT_CHARS = 4000  # keep one robot text message readable and well under the API limit


@dataclass(frozen=True)
class DingTalkSettings:
    app_key: str
    app_secret: str
    robot_code: str
    api_base: str = DEFAULT_API_BASE

    REQUIRED = ("DINGTALK_APP_KEY", "DINGTALK_APP_SECRET")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DingTalkSettings | None:
        values = {name: env.get(name, "").strip() for name in cls.REQUIRED}
        if not all(values.values()):
            return None
        return cls(app_key=values["DINGTALK_APP_KEY"], app_secret=values["DINGTALK_APP_SECRET"],
                   # an enterprise-internal app's robot code is its AppKey unless set otherwise
                   robot_code=env.get("DINGTALK_ROBOT_CODE", "").strip()
                   or values["DINGTALK_APP_KEY"],
                   api_base=env.get("DINGTALK_API_BASE", "").strip() or DEFAULT_API_BASE)


class DingTalkChannel(PlatformChannel):
    name = "dingtalk"
    text_limit = TEXT_LIMIT_CHARS
    api: DingTalkAPI

    def __init__(self, settings: DingTalkSettings) -> None:
        super().__init__()
        self.settings = settings

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.robot)

    async def on_bind(self) -> None:
        self.api = DingTalkAPI(self._http, app_key=self.settings.app_key,
                               app_secret=self.settings.app_secret,
                               robot_code=self.settings.robot_code,
                               api_base=self.settings.api_base)

    async def robot(self, request: web.Request) -> web.Response:
        try:
            verify_robot_request(request.headers.get("timestamp", ""),
                                 request.headers.get("sign", ""), self.settings.app_secret)
        except CryptoError as exc:
            log.warning("dingtalk: rejected request: %s", exc)
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            body = json.loads(await request.read())
        except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting: not JSON to us
            return web.json_response({"error": "bad_json"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "bad_json"}, status=400)
        parsed = parse_body(body)
        if (retry := await self.receive(parsed)) is not None:  # stored before we answer
            return retry
        return web.json_response({})  # received; the answer follows through the OpenAPI

    async def send_texts(self, conversation_id: str, texts: Sequence[str],
                         inbound: InboundMessage | None) -> None:
        for text in texts:
            if conversation_id.startswith(USER_PREFIX):
                await self.api.send_to_user(conversation_id.removeprefix(USER_PREFIX), text)
            elif conversation_id.startswith(GROUP_PREFIX):
                await self.api.send_to_group(conversation_id.removeprefix(GROUP_PREFIX), text)
            else:
                raise ValueError(f"not a dingtalk conversation id: {conversation_id!r}")

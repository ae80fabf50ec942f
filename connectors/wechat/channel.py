"""WeChat Official Account (公众号): `/channels/wechat/callback`.

GET echoes `echostr` verbatim after the query signature check. POST is plain XML (plain mode,
`WECHAT_ENCODING_AES_KEY` empty) or carries `Encrypt` (safe or compatible mode: with a key set,
an unencrypted message is refused, since plain mode signs only the query, not the body). We
answer "success" at once and reply through the customer-service message API.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from connectors.base import InboundMessage
from connectors.platform import WeixinChannel
from connectors.wechat.api import DEFAULT_API_BASE, WeChatAPI
from connectors.wechat.crypto import verify_plain
from connectors.wecom.parse import parse_message
from connectors.wxcrypt import (
    CryptoError,
    DecryptError,
    WXBizMsgCrypt,
    XMLError,
    xml_fields,
)

log = logging.getLogger("connectors.wechat")

PATH = "/channels/wechat/callback"
TEXT_LIMIT_BYTES = 2048  # customer-service text message: keep within 2048 bytes


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain")


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str
    app_secret: str
    token: str
    encoding_aes_key: str  # empty: plain mode
    api_base: str = DEFAULT_API_BASE

    REQUIRED = ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TOKEN")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WeChatSettings | None:
        values = {name: env.get(name, "").strip() for name in cls.REQUIRED}
        if not all(values.values()):
            return None
        return cls(app_id=values["WECHAT_APP_ID"], app_secret=values["WECHAT_APP_SECRET"],
                   token=values["WECHAT_TOKEN"],
                   encoding_aes_key=env.get("WECHAT_ENCODING_AES_KEY", "").strip(),
                   api_base=env.get("WECHAT_API_BASE", "").strip() or DEFAULT_API_BASE)


class WeChatChannel(WeixinChannel):
    path = PATH
    name = "wechat"
    text_limit = TEXT_LIMIT_BYTES
    api: WeChatAPI

    def __init__(self, settings: WeChatSettings) -> None:
        super().__init__()
        self.settings = settings
        self.crypt: WXBizMsgCrypt | None = None
        if settings.encoding_aes_key:
            self.crypt = WXBizMsgCrypt(settings.token, settings.encoding_aes_key,
                                       settings.app_id)

    async def on_bind(self) -> None:
        self.api = WeChatAPI(self._http, app_id=self.settings.app_id,
                             app_secret=self.settings.app_secret,
                             api_base=self.settings.api_base)

    async def verify(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            verify_plain(self.settings.token, q.get("signature", ""), q.get("timestamp", ""),
                         q.get("nonce", ""))
        except CryptoError as exc:
            log.warning("wechat: URL verification failed: %s", exc)
            return _plain(403, "forbidden")
        return _plain(200, q.get("echostr", ""))

    def _open(self, query: Mapping[str, str], body: bytes) -> dict[str, str]:
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        verify_plain(self.settings.token, query.get("signature", ""), timestamp, nonce)
        if self.crypt is None:
            return xml_fields(body)
        fields = xml_fields(body)
        encrypted = fields.get("Encrypt", "")
        if query.get("encrypt_type", "") != "aes" or not encrypted:
            raise CryptoError("safe mode is configured but the message is not encrypted")
        return xml_fields(self.crypt.decrypt_message(query.get("msg_signature", ""), timestamp,
                                                     nonce, encrypted))

    async def callback(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            fields = self._open(request.query, body)
        except (XMLError, DecryptError) as exc:
            log.warning("wechat: bad callback: %s", exc)
            return _plain(400, "bad request")
        except CryptoError as exc:
            log.warning("wechat: rejected callback: %s", exc)
            return _plain(403, "forbidden")
        parsed = parse_message(fields, self.name)
        if (retry := await self.receive(parsed)) is not None:  # stored before we answer
            return retry
        # "success" (or an empty body): WeChat shows nothing and does not retry.
        return _plain(200, "success")

    async def send_texts(self, conversation_id: str, texts: Sequence[str],
                         inbound: InboundMessage | None) -> None:
        for text in texts:
            await self.api.send_text(conversation_id, text)

"""WeCom self-built app (企业微信自建应用): `/channels/wecom/callback`.

GET answers the URL verification with the bare decrypted echostr; POST verifies the signature
over `Encrypt`, decrypts, answers an empty 200 at once and lets the bot's reply go out through
`message/send` afterwards (WeCom drops the request after 5 s and retries, 3 times).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from connectors.base import InboundMessage
from connectors.platform import WeixinChannel
from connectors.wecom.api import DEFAULT_API_BASE, WeComAPI
from connectors.wecom.crypto import REPLAY_WINDOW_SECONDS, parse_envelope
from connectors.wecom.parse import parse_message
from connectors.wxcrypt import (
    CryptoError,
    DecryptError,
    WXBizMsgCrypt,
    XMLError,
    check_timestamp,
    xml_fields,
)

log = logging.getLogger("connectors.wecom")

PATH = "/channels/wecom/callback"
TEXT_LIMIT_BYTES = 2048  # message/send: text content at most 2048 bytes (longer is cut off)


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain")


def _reject(exc: Exception) -> web.Response:
    """400 for a malformed body, 403 for a request that fails verification."""
    if isinstance(exc, XMLError | DecryptError | UnicodeDecodeError):
        return _plain(400, "bad request")
    return _plain(403, "forbidden")


def url_verification(request: web.Request, crypt: WXBizMsgCrypt) -> web.Response:
    """GET ?msg_signature&timestamp&nonce&echostr → the bare plaintext echostr."""
    q = request.query
    try:
        check_timestamp(q.get("timestamp", ""), window=REPLAY_WINDOW_SECONDS)
        echo = crypt.verify_url(q.get("msg_signature", ""), q.get("timestamp", ""),
                                q.get("nonce", ""), q.get("echostr", ""))
    except (CryptoError, UnicodeDecodeError) as exc:
        log.warning("%s: URL verification failed: %s", request.path, exc)
        return _reject(exc)
    return _plain(200, echo)  # no quotes, no BOM, no newline


async def open_callback(request: web.Request,
                        crypt: WXBizMsgCrypt) -> dict[str, str] | web.Response:
    """POST: verify (raw Encrypt, constant time, replay window), decrypt, parse the inner XML.
    The decrypted fields, or the error response to answer with."""
    q = request.query
    body = await request.read()
    try:
        envelope = parse_envelope(body)
        check_timestamp(q.get("timestamp", ""), window=REPLAY_WINDOW_SECONDS)
        plain = crypt.decrypt_message(q.get("msg_signature", ""), q.get("timestamp", ""),
                                      q.get("nonce", ""), envelope.encrypt)
        return xml_fields(plain)
    except (XMLError, CryptoError) as exc:
        log.warning("%s: rejected callback: %s", request.path, exc)
        return _reject(exc)


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    encoding_aes_key: str
    api_base: str = DEFAULT_API_BASE

    REQUIRED = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN",
                "WECOM_ENCODING_AES_KEY")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WeComSettings | None:
        values = {name: env.get(name, "").strip() for name in cls.REQUIRED}
        if not all(values.values()):
            return None
        try:
            agent_id = int(values["WECOM_AGENT_ID"])
        except ValueError:
            raise ValueError("WECOM_AGENT_ID must be an integer") from None
        return cls(corp_id=values["WECOM_CORP_ID"], agent_id=agent_id,
                   secret=values["WECOM_SECRET"], token=values["WECOM_TOKEN"],
                   encoding_aes_key=values["WECOM_ENCODING_AES_KEY"],
                   api_base=env.get("WECOM_API_BASE", "").strip() or DEFAULT_API_BASE)


class WeComChannel(WeixinChannel):
    path = PATH
    name = "wecom"
    text_limit = TEXT_LIMIT_BYTES
    api: WeComAPI

    def __init__(self, settings: WeComSettings) -> None:
        super().__init__()
        self.settings = settings
        self.crypt = WXBizMsgCrypt(settings.token, settings.encoding_aes_key, settings.corp_id)

    async def on_bind(self) -> None:
        self.api = WeComAPI(self._http, corp_id=self.settings.corp_id,
                            secret=self.settings.secret, api_base=self.settings.api_base)

    async def verify(self, request: web.Request) -> web.Response:
        return url_verification(request, self.crypt)

    async def callback(self, request: web.Request) -> web.Response:
        fields = await open_callback(request, self.crypt)
        if isinstance(fields, web.Response):
            return fields
        parsed = parse_message(fields, self.name)
        if (retry := await self.receive(parsed)) is not None:  # stored before we answer
            return retry
        return _plain(200, "")  # received; the answer follows through message/send

    async def send_texts(self, conversation_id: str, texts: Sequence[str],
                         inbound: InboundMessage | None) -> None:
        for text in texts:
            await self.api.send_text(self.settings.agent_id, conversation_id, text)

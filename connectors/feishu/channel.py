"""Feishu bot: `/channels/feishu/events` (event subscription by webhook, Encrypt Key set).

Every push is `{"encrypt": ...}`. Events are signed (`X-Lark-Signature` over the raw body, within
the replay window) and carry the Verification Token; the URL-verification challenge is not
signed, so it is answered only when its token matches. Events are answered with 200 at once
(Feishu re-pushes after 3 s) and the bot's reply goes out as a reply to the user's message.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from connectors.base import InboundMessage
from connectors.feishu.api import DEFAULT_API_BASE, FeishuAPI
from connectors.feishu.crypto import REPLAY_WINDOW_SECONDS, decrypt, verify_signature
from connectors.feishu.parse import CHANNEL, parse_event
from connectors.platform import PlatformChannel
from connectors.wxcrypt import CryptoError, DecryptError, check_timestamp

log = logging.getLogger("connectors.feishu")

PATH = "/channels/feishu/events"
TEXT_LIMIT_CHARS = 4000  # keep one text message readable (the API allows far more)


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


@dataclass(frozen=True)
class FeishuSettings:
    app_id: str
    app_secret: str
    verification_token: str
    encrypt_key: str
    api_base: str = DEFAULT_API_BASE

    REQUIRED = ("FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_VERIFICATION_TOKEN",
                "FEISHU_ENCRYPT_KEY")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FeishuSettings | None:
        values = {name: env.get(name, "").strip() for name in cls.REQUIRED}
        if not all(values.values()):
            return None
        return cls(app_id=values["FEISHU_APP_ID"], app_secret=values["FEISHU_APP_SECRET"],
                   verification_token=values["FEISHU_VERIFICATION_TOKEN"],
                   encrypt_key=values["FEISHU_ENCRYPT_KEY"],
                   api_base=env.get("FEISHU_API_BASE", "").strip() or DEFAULT_API_BASE)


class FeishuChannel(PlatformChannel):
    name = CHANNEL
    text_limit = TEXT_LIMIT_CHARS
    api: FeishuAPI

    def __init__(self, settings: FeishuSettings) -> None:
        super().__init__()
        self.settings = settings

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.events)

    async def on_bind(self) -> None:
        self.api = FeishuAPI(self._http, app_id=self.settings.app_id,
                             app_secret=self.settings.app_secret,
                             api_base=self.settings.api_base)

    def _token_ok(self, token: object) -> bool:
        return isinstance(token, str) and hmac.compare_digest(
            token.encode("utf-8"), self.settings.verification_token.encode("utf-8"))

    def _signed(self, request: web.Request, raw: bytes) -> None:
        timestamp = request.headers.get("X-Lark-Request-Timestamp", "")
        verify_signature(request.headers.get("X-Lark-Signature", ""), timestamp,
                         request.headers.get("X-Lark-Request-Nonce", ""),
                         self.settings.encrypt_key, raw)
        check_timestamp(timestamp, window=REPLAY_WINDOW_SECONDS)

    async def events(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            outer = json.loads(raw)
            encrypted = outer.get("encrypt") if isinstance(outer, dict) else None
            if not isinstance(encrypted, str):
                return _error(400, "encrypted_body_expected")
            event: Any = json.loads(decrypt(self.settings.encrypt_key, encrypted))
        except (UnicodeDecodeError, ValueError, RecursionError, DecryptError) as exc:
            log.warning("feishu: bad request: %s", exc)
            return _error(400, "bad_request")
        if not isinstance(event, dict):
            return _error(400, "bad_request")

        if event.get("type") == "url_verification":  # not signed: the token is the check
            if not self._token_ok(event.get("token")):
                return _error(403, "forbidden")
            return web.json_response({"challenge": event.get("challenge", "")})

        try:
            self._signed(request, raw)
        except CryptoError as exc:
            log.warning("feishu: rejected event: %s", exc)
            return _error(403, "forbidden")
        header = event.get("header")
        if not isinstance(header, dict) or not self._token_ok(header.get("token")):
            log.warning("feishu: event without the verification token (or a v1 event)")
            return _error(403, "forbidden")

        parsed = parse_event(event)
        if (retry := await self.receive(parsed)) is not None:  # stored before we answer
            return retry
        return web.json_response({})  # received within 3 s; the reply follows

    async def send_texts(self, conversation_id: str, texts: Sequence[str],
                         inbound: InboundMessage | None) -> None:
        reply_to = str(inbound.metadata.get("message_id") or "") if inbound else ""
        for index, text in enumerate(texts):
            if inbound is not None and reply_to:
                # One key per (event, bubble): a re-sent reply is sent once.
                key = f"{inbound.message_id}-{index}"
                await self.api.reply_text(reply_to, text, idempotency_key=key)
            else:
                await self.api.send_text(conversation_id, text)

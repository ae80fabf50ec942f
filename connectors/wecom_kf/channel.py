"""WeChat Customer Service (微信客服): `/channels/wecom-kf/callback`.

The callback carries no message, only "pull now" (`kf_msg_or_event` with a short-lived token and
the open_kfid). We answer it at once, then pull with `sync_msg` from the cursor stored in the
case database, answer each customer message, and move the cursor after each page, so a restart
neither replays nor loses messages (a message seen twice is deduplicated by its msgid). At most
5 messages may follow each customer message, so the bot's bubbles are merged to fit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from casedb.repositories import ChannelCursorRepository
from connectors.base import InboundMessage
from connectors.platform import WeixinChannel
from connectors.wecom.api import DEFAULT_API_BASE
from connectors.wecom.channel import open_callback, url_verification
from connectors.wecom.parse import Ignored, Text, Unsupported
from connectors.wecom_kf.api import WeComKfAPI
from connectors.wecom_kf.parse import CHANNEL, parse_item, split_conversation_id
from connectors.wxcrypt import WXBizMsgCrypt

log = logging.getLogger("connectors.wecom_kf")

PATH = "/channels/wecom-kf/callback"
TEXT_LIMIT_BYTES = 2048  # send_msg: text content at most 2048 bytes
MAX_MESSAGES_PER_TURN = 5  # at most 5 messages within 48 h after each customer message
MAX_CONCURRENT_TURNS = 8  # how many customers of one page are answered at the same time
MAX_PAGES_PER_PULL = 100  # a safety stop for a sync_msg that always says has_more


@dataclass(frozen=True)
class WeComKfSettings:
    corp_id: str
    secret: str
    token: str
    encoding_aes_key: str
    api_base: str = DEFAULT_API_BASE

    REQUIRED = ("WECOM_CORP_ID", "WECOM_KF_SECRET", "WECOM_KF_TOKEN",
                "WECOM_KF_ENCODING_AES_KEY")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WeComKfSettings | None:
        values = {name: env.get(name, "").strip() for name in cls.REQUIRED}
        if not all(values.values()):
            return None
        return cls(corp_id=values["WECOM_CORP_ID"], secret=values["WECOM_KF_SECRET"],
                   token=values["WECOM_KF_TOKEN"],
                   encoding_aes_key=values["WECOM_KF_ENCODING_AES_KEY"],
                   api_base=env.get("WECOM_KF_API_BASE", "").strip() or DEFAULT_API_BASE)


class WeComKfChannel(WeixinChannel):
    path = PATH
    name = CHANNEL
    text_limit = TEXT_LIMIT_BYTES
    max_messages = MAX_MESSAGES_PER_TURN
    api: WeComKfAPI

    def __init__(self, settings: WeComKfSettings) -> None:
        super().__init__()
        self.settings = settings
        self.crypt = WXBizMsgCrypt(settings.token, settings.encoding_aes_key, settings.corp_id)
        self._pending: dict[str, str] = {}  # open_kfid → latest event token, pull requested
        self._pulling: set[str] = set()
        self._turns = asyncio.Semaphore(MAX_CONCURRENT_TURNS)

    async def on_bind(self) -> None:
        self.api = WeComKfAPI(self._http, corp_id=self.settings.corp_id,
                              secret=self.settings.secret, api_base=self.settings.api_base)

    async def verify(self, request: web.Request) -> web.Response:
        return url_verification(request, self.crypt)

    async def callback(self, request: web.Request) -> web.Response:
        fields = await open_callback(request, self.crypt)
        if isinstance(fields, web.Response):
            return fields
        open_kfid = fields.get("OpenKfId", "")
        if fields.get("Event") == "kf_msg_or_event" and open_kfid:
            self.request_pull(open_kfid, fields.get("Token", ""))
        else:
            log.debug("wecom_kf: ignored callback %s",
                      fields.get("Event") or fields.get("MsgType"))
        return web.Response(text="", content_type="text/plain")

    def request_pull(self, open_kfid: str, event_token: str) -> None:
        """Pull for `open_kfid`; while a pull runs, remember to pull once more after it."""
        self._pending[open_kfid] = event_token
        if open_kfid not in self._pulling:
            self._pulling.add(open_kfid)
            self.spawn(self._pull_loop(open_kfid), f"sync_msg {open_kfid}")

    async def _pull_loop(self, open_kfid: str) -> None:
        try:
            while open_kfid in self._pending:
                await self.pull(open_kfid, self._pending.pop(open_kfid))
        finally:
            self._pulling.discard(open_kfid)

    async def _load_cursor(self, open_kfid: str) -> str | None:
        async with self._db() as session:
            return await ChannelCursorRepository(session).get(CHANNEL, open_kfid)

    async def _save_cursor(self, open_kfid: str, cursor: str) -> None:
        async with self._db.begin() as session:
            await ChannelCursorRepository(session).set(CHANNEL, open_kfid, cursor)

    async def pull(self, open_kfid: str, event_token: str) -> None:
        """Read every new message from the stored cursor on, answering page by page."""
        cursor = await self._load_cursor(open_kfid)
        for _ in range(MAX_PAGES_PER_PULL):
            page = await self.api.sync_msg(open_kfid, event_token, cursor)
            items = page.get("msg_list") or []
            await self._answer_page([i for i in items if isinstance(i, Mapping)])
            next_cursor = page.get("next_cursor")
            if isinstance(next_cursor, str) and next_cursor and next_cursor != cursor:
                cursor = next_cursor
                await self._save_cursor(open_kfid, cursor)
            if not page.get("has_more"):
                return
        log.warning("wecom_kf: stopped pulling %s after %d pages", open_kfid, MAX_PAGES_PER_PULL)

    async def _answer_page(self, items: Sequence[Mapping[str, Any]]) -> None:
        async def one(item: Mapping[str, Any]) -> None:
            parsed = parse_item(item)
            if isinstance(parsed, Ignored):
                return
            async with self._turns:
                if isinstance(parsed, Text):
                    await self.process(parsed.message)
                elif isinstance(parsed, Unsupported):
                    await self._unsupported(parsed.message, parsed.kind)

        # Tasks start in order, and each conversation's lock is FIFO: one customer's messages
        # are answered in the order they were sent, different customers concurrently.
        results = await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
        failed = 0
        for item, result in zip(items, results, strict=True):
            if isinstance(result, Exception):
                failed += 1
                log.error("wecom_kf: message %s failed: %r", item.get("msgid"), result)
        if failed:  # the cursor is our acknowledgement: keep it, the next pull reads them again
            raise RuntimeError(f"{failed} message(s) of the page not stored or answered")

    async def send_texts(self, conversation_id: str, texts: Sequence[str],
                         inbound: InboundMessage | None) -> None:
        open_kfid, external_userid = split_conversation_id(conversation_id)
        for text in texts:
            await self.api.send_kf_text(open_kfid, external_userid, text)

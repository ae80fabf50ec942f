"""What every messaging-platform channel shares: store, acknowledge, then answer in the background.

A platform's webhook handler verifies and parses the request and awaits `receive(parsed)`, which
deduplicates the message and stores it in the message log before the platform is answered: if
the database cannot take it, the handler answers with a retryable error (`retry_response`) so
the platform delivers it again, and nothing is acknowledged that was not stored. The bot's turn
then runs in a tracked task, one at a time per conversation: a reply of "1" after numbered
choices becomes that button's payload, the router asks the bot and logs its replies, and the
replies are rendered for the platform and sent through its API (`send_texts`).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import re
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, ClassVar

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.models import Conversation
from connectors.base import Channel, InboundMessage, OutboundMessage
from connectors.render import (
    ChoiceMemory,
    Measure,
    chars,
    pick_choice,
    render,
    unsupported_reply,
    utf8_bytes,
)
from connectors.wecom.parse import Ignored, Parsed, Unsupported
from gateway.keys import (
    db_key,
    http_key,
    outbox_key,
    ratelimit_key,
    router_key,
    settings_key,
    state_key,
)
from gateway.outbox import Outbox
from gateway.ratelimit import RateLimiter
from gateway.replies import reply
from gateway.router import Router
from gateway.state import StateStore

log = logging.getLogger("connectors.platform")

CLOSE_GRACE_SECONDS = 5.0  # on shutdown, how long replies in flight may still finish
RETRY_AFTER_SECONDS = 5  # what a retryable answer suggests (platforms retry on their own)

# C0 and C1 control characters except tab and newline, lone UTF-16 surrogates (a JSON "\ud800"
# decodes to one and no database can store it) and NUL (PostgreSQL text refuses it).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` without control characters and unpaired surrogates, line ends as "\n"."""
    return _UNPRINTABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def clean_message(message: InboundMessage) -> InboundMessage:
    """The message as it is stored and sent to the bot: text and payload cleaned."""
    text = clean_text(message.text) if message.text is not None else None
    payload = clean_text(message.payload) if message.payload is not None else None
    if text == message.text and payload == message.payload:
        return message
    return replace(message, text=text, payload=payload)


class KeyedLocks:
    """One asyncio.Lock per key, dropped when nobody holds or waits for it (FIFO per key)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class PlatformChannel(Channel):
    """Base of the webhook channels (WeCom, 微信客服, 公众号, DingTalk, Feishu)."""

    text_limit: ClassVar[int] = 2000  # the platform's limit on one text message
    max_messages: ClassVar[int | None] = None  # the platform's cap on messages per turn

    _router: Router
    _state: StateStore
    _http: aiohttp.ClientSession
    _db: async_sessionmaker[AsyncSession]
    _dedup_ttl: int
    _max_text_chars: int
    _limiter: RateLimiter
    _sender_limit: int
    _outbox: Outbox

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._choices = ChoiceMemory()
        self._locks = KeyedLocks()

    @property
    def measure(self) -> Measure:
        """How `text_limit` counts: characters by default, UTF-8 bytes where documented so."""
        return chars

    def register(self, app: web.Application) -> None:
        self.add_routes(app)
        app.on_startup.append(self._bind)  # runs after the app's resources are open

    @abc.abstractmethod
    def add_routes(self, app: web.Application) -> None:
        """Add the platform's webhook routes."""

    async def _bind(self, app: web.Application) -> None:
        self._router = app[router_key]
        self._state = app[state_key]
        self._http = app[http_key]
        self._db = app[db_key]
        self._dedup_ttl = app[settings_key].dedup_ttl
        self._max_text_chars = app[settings_key].max_text_chars
        self._limiter = app[ratelimit_key]
        self._outbox = app[outbox_key]
        self._sender_limit = app[settings_key].rate_limit_sender
        await self.on_bind()

    async def on_bind(self) -> None:
        """Build what needs the app's resources (API clients on the shared HTTP session)."""
        return None

    # -- background work ------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run `work` in a tracked task; its exceptions are logged, never lost."""
        task = asyncio.create_task(self._guard(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: %s failed", self.name, what)

    async def receive(self, parsed: Parsed) -> web.Response | None:
        """Store a parsed delivery before the platform is answered, then answer the person
        in the background. None: answer the platform as usual (stored, a duplicate, or
        ignored); otherwise the retryable response to answer with (it could not be stored)."""
        if isinstance(parsed, Ignored):
            log.debug("%s: ignored delivery: %s", self.name, parsed.reason)
            return None
        message = clean_message(parsed.message)
        if isinstance(parsed, Unsupported):
            message = replace(message, metadata={**message.metadata, "unsupported": parsed.kind})
        try:
            conversation = await self._router.accept(message)
        except Exception as exc:  # the database is down: the platform must deliver it again
            log.error("%s: message %s not stored, asking the platform to retry: %s: %s",
                      self.name, message.message_id, type(exc).__name__, exc)
            return self.retry_response()
        if conversation is not None:  # None: a retry of a message stored before
            self.spawn(self._locked_turn(message, conversation), f"message {message.message_id}")
        return None

    def retry_response(self) -> web.Response:
        """What tells this platform to deliver the message again later (any 5xx does)."""
        return web.json_response({"error": "unavailable"}, status=503,
                                 headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    async def process(self, message: InboundMessage) -> None:
        """Store and answer `message` in one go (pull-based channels: the cursor, moved after
        this returns, is their acknowledgement)."""
        message = clean_message(message)
        async with self._locks.hold(message.conversation_id):  # in order per conversation
            conversation = await self._router.accept(message)
            if conversation is not None:
                await self._turn(message, conversation)

    async def _locked_turn(self, message: InboundMessage, conversation: Conversation) -> None:
        async with self._locks.hold(message.conversation_id):
            await self._turn(message, conversation)

    async def _turn(self, message: InboundMessage, conversation: Conversation) -> None:
        if self._sender_limit > 0:  # stored either way; too fast: one polite reply, then quiet
            hits = await self._limiter.hits(f"sender:{message.sender_key}")
            if hits > self._sender_limit:
                log.info("%s: rate limited a sender (%d messages this minute)", self.name, hits)
                if hits == self._sender_limit + 1:
                    await self._reply(message, reply("rate_limited"))
                return
        kind = message.metadata.get("unsupported")
        if kind is not None:
            log.info("%s: unsupported %s message", self.name, kind)
            await self._reply(message, unsupported_reply(str(kind)))
            return
        if message.text is not None and len(message.text) > self._max_text_chars:
            log.info("%s: message of %d characters not sent to the bot", self.name,
                     len(message.text))
            await self._reply(message, reply("text_too_long"))
            return
        if message.payload is None:
            choice = pick_choice(message.text, self._choices.get(message.conversation_id))
            if choice is not None:
                message = replace(message, payload=choice.payload)
        outcome = await self._router.respond(message, conversation)
        if outcome.replies:  # the router logged them; the outbox keeps them until sent
            await self._send_through_outbox(message, outcome.replies, log_messages=False)

    async def _reply(self, inbound: InboundMessage, text: str) -> None:
        """A reply of the gateway's own (not the bot's): logged, then sent via the outbox."""
        await self._send_through_outbox(inbound, [OutboundMessage(text=text)],
                                        log_messages=True)

    async def _send_through_outbox(self, inbound: InboundMessage,
                                   messages: Sequence[OutboundMessage], *,
                                   log_messages: bool) -> None:
        conversation_id = inbound.conversation_id

        async def as_reply() -> None:  # the first attempt answers in context (Feishu threads)
            await self.deliver(conversation_id, messages, inbound)

        await self._outbox.deliver(self.name, conversation_id, messages,
                                   log_messages=log_messages, send_now=as_reply)

    async def _unsupported(self, message: InboundMessage, kind: str) -> None:
        """Store and answer a voice, image, ... message (pull-based channels)."""
        await self.process(replace(message, metadata={**message.metadata,
                                                      "unsupported": kind}))

    async def deliver(self, conversation_id: str, messages: Sequence[OutboundMessage],
                      inbound: InboundMessage | None = None) -> None:
        rendered = render(messages, limit=self.text_limit, measure=self.measure,
                          max_messages=self.max_messages)
        self._choices.remember(conversation_id, rendered.choices)
        if rendered.texts:
            await self.send_texts(conversation_id, rendered.texts, inbound)

    async def send(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        await self.deliver(conversation_id, messages)

    @abc.abstractmethod
    async def send_texts(self, conversation_id: str, texts: Sequence[str],
                         inbound: InboundMessage | None) -> None:
        """Send rendered texts, in order, through the platform's API."""

    async def drain(self) -> None:
        """Wait until no background work is left (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        if not self._tasks:
            return
        try:
            await asyncio.wait_for(self.drain(), CLOSE_GRACE_SECONDS)
        except TimeoutError:
            log.warning("%s: %d tasks still running at shutdown; cancelling", self.name,
                        len(self._tasks))
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class WeixinChannel(PlatformChannel):
    """WeCom, 微信客服 and 公众号: one callback path where GET verifies the URL and POST
    delivers, and text limits that count UTF-8 bytes."""

    path: ClassVar[str]

    @property
    def measure(self) -> Measure:
        return utf8_bytes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(self.path, self.verify)
        app.router.add_post(self.path, self.callback)

    @abc.abstractmethod
    async def verify(self, request: web.Request) -> web.Response:
        """Answer the platform's URL verification."""

    @abc.abstractmethod
    async def callback(self, request: web.Request) -> web.Response:
        """Verify, decrypt and dispatch a delivery; answer the platform at once."""

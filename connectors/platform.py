"""What every messaging-platform channel shares: acknowledge at once, process in the background.

A platform's webhook handler verifies and parses the request, calls `dispatch(message)` and
answers the platform right away. The message is then processed in a tracked task, one at a time
per conversation: a reply of "1" after numbered choices becomes that button's payload, the router
deduplicates, logs and asks the bot, and the replies are rendered for the platform and sent
through its API (`send_texts`).
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, ClassVar

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from gateway.keys import db_key, http_key, router_key, settings_key, state_key
from gateway.router import Router
from gateway.state import StateStore

log = logging.getLogger("connectors.platform")

CLOSE_GRACE_SECONDS = 5.0  # on shutdown, how long replies in flight may still finish


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

    def dispatch(self, message: InboundMessage) -> None:
        """Process `message` after the webhook has answered."""
        self.spawn(self.process(message), f"message {message.message_id}")

    def dispatch_unsupported(self, message: InboundMessage, kind: str) -> None:
        """Answer a voice, image, file, ... message politely (once, even when retried)."""
        self.spawn(self._unsupported(message, kind), f"unsupported {kind} {message.message_id}")

    async def process(self, message: InboundMessage) -> None:
        async with self._locks.hold(message.conversation_id):
            if message.payload is None:
                choice = pick_choice(message.text, self._choices.get(message.conversation_id))
                if choice is not None:
                    message = replace(message, payload=choice.payload)
            outcome = await self._router.handle(message)
            if outcome.replies:
                await self.deliver(message.conversation_id, outcome.replies, message)

    async def _unsupported(self, message: InboundMessage, kind: str) -> None:
        if message.message_id is not None and not await self._state.first_seen(
                f"{self.name}:{message.message_id}", self._dedup_ttl):
            return
        log.info("%s: unsupported %s message from %s", self.name, kind, message.conversation_id)
        await self.send_texts(message.conversation_id, [unsupported_reply(kind)], message)

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

"""Shared gateway state: retry dedup, per-conversation routing state and pub/sub.

`MemoryState` serves a single gateway process (the embedded default); `RedisState` lets any
number of gateway processes share the same state. Both implement `StateStore`.
"""

from __future__ import annotations

import abc
import asyncio
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis


class StateStore(abc.ABC):
    @abc.abstractmethod
    async def first_seen(self, key: str, ttl: int) -> bool:
        """Mark `key` as seen for `ttl` seconds; True only for the first caller."""

    @abc.abstractmethod
    async def seen(self, key: str) -> bool:
        """Whether `key` is marked by `first_seen` and its time has not run out (no marking)."""

    @abc.abstractmethod
    async def forget(self, key: str) -> None:
        """Undo `first_seen` (the message was not stored after all, so a retry must pass)."""

    @abc.abstractmethod
    async def get_route(self, conversation: str) -> str | None:
        """The routing state of a conversation (None: with the bot)."""

    @abc.abstractmethod
    async def set_route(self, conversation: str, state: str | None) -> None:
        """Set (or with None clear) the routing state of a conversation."""

    @abc.abstractmethod
    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Send `message` to every current subscriber of `topic`, in any process."""

    @abc.abstractmethod
    def subscribe(self, topic: str) -> Any:
        """`async with store.subscribe(topic) as messages: async for m in messages: ...`"""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise when the store cannot be reached."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class MemoryState(StateStore):
    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._routes: dict[str, str] = {}
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def first_seen(self, key: str, ttl: int) -> bool:
        now = self._clock()
        if len(self._seen) > 10_000:  # keep memory bounded: drop what has expired
            self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        self._seen[key] = now + ttl
        return True

    async def seen(self, key: str) -> bool:
        expires = self._seen.get(key)
        return expires is not None and expires > self._clock()

    async def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    async def get_route(self, conversation: str) -> str | None:
        return self._routes.get(conversation)

    async def set_route(self, conversation: str, state: str | None) -> None:
        if state is None:
            self._routes.pop(conversation, None)
        else:
            self._routes[conversation] = state

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers[topic].add(queue)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]

    async def ping(self) -> None:
        return None


class RedisState(StateStore):
    """Keys: `<prefix>:dedup:<key>`, `<prefix>:route:<conversation>`, `<prefix>:topic:<topic>`."""

    def __init__(self, client: aioredis.Redis, prefix: str = "legalbot") -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "legalbot") -> RedisState:
        # No socket_timeout: a pub/sub subscriber legitimately waits for minutes.
        client = aioredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2,
                                         health_check_interval=30)
        return cls(client, prefix)

    def _key(self, part: str, name: str) -> str:
        return f"{self._prefix}:{part}:{name}"

    async def first_seen(self, key: str, ttl: int) -> bool:
        return bool(await self._redis.set(self._key("dedup", key), "1", nx=True, ex=ttl))

    async def seen(self, key: str) -> bool:
        return bool(await self._redis.exists(self._key("dedup", key)))

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._key("dedup", key))

    async def get_route(self, conversation: str) -> str | None:
        value = await self._redis.get(self._key("route", conversation))
        return None if value is None else str(value)

    async def set_route(self, conversation: str, state: str | None) -> None:
        if state is None:
            await self._redis.delete(self._key("route", conversation))
        else:
            await self._redis.set(self._key("route", conversation), state)

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self._key("topic", topic),
                                  json.dumps(message, ensure_ascii=False))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._key("topic", topic))

        async def messages() -> AsyncIterator[dict[str, Any]]:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    yield json.loads(item["data"])

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def create_state(redis_url: str | None, prefix: str = "legalbot") -> StateStore:
    return RedisState.from_url(redis_url, prefix) if redis_url else MemoryState()

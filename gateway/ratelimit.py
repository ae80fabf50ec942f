"""Rate limits per sender and per client IP: fixed one-minute windows counted in Redis (shared
by every gateway) or in memory (one gateway).

`RateLimiter.allow(key, limit)` counts one hit on `key` and says whether it is within `limit`
hits in the current window. A limit of 0 switches the check off. When Redis fails, the limiter
counts in memory for the moment instead: an outage must not turn into refusing everyone (or
letting everyone through unchecked).
"""

from __future__ import annotations

import abc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("gateway.ratelimit")

WINDOW_SECONDS = 60
_MAX_MEMORY_KEYS = 50_000


@dataclass(frozen=True)
class Limits:
    """Hits per minute; 0 means no limit."""

    per_sender: int = 20
    per_ip: int = 60


class RateLimiter(abc.ABC):
    @abc.abstractmethod
    async def hits(self, key: str) -> int:
        """Count one hit on `key`; the number of hits in the current window, this one included."""

    async def allow(self, key: str, limit: int) -> bool:
        """Count one hit; False when `key` is over `limit` in this window (0: no limit)."""
        if limit <= 0:
            return True
        return await self.hits(key) <= limit

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class MemoryRateLimiter(RateLimiter):
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}  # key → (window, hits)

    async def hits(self, key: str) -> int:
        window = int(self._clock() // WINDOW_SECONDS)
        if len(self._counts) > _MAX_MEMORY_KEYS:  # keep memory bounded: drop old windows
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        seen, count = self._counts.get(key, (window, 0))
        count = count + 1 if seen == window else 1
        self._counts[key] = (window, count)
        return count


class RedisRateLimiter(RateLimiter):
    """Keys `<prefix>:rate:<key>:<window>`, expiring with their window."""

    def __init__(self, client: aioredis.Redis, prefix: str = "legalbot",
                 clock: Callable[[], float] = time.time) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock
        self._fallback = MemoryRateLimiter(clock)

    @classmethod
    def from_url(cls, url: str, prefix: str = "legalbot") -> RedisRateLimiter:
        client = aioredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2,
                                         socket_timeout=2)
        return cls(client, prefix)

    async def hits(self, key: str) -> int:
        window = int(self._clock() // WINDOW_SECONDS)
        name = f"{self._prefix}:rate:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, WINDOW_SECONDS * 2)
                count, _ = await pipe.execute()
            return int(count)
        except RedisError as exc:
            log.warning("rate limit store unavailable, counting in memory: %s", exc)
            return await self._fallback.hits(key)

    async def close(self) -> None:
        await self._redis.aclose()


def create_rate_limiter(redis_url: str | None, prefix: str = "legalbot") -> RateLimiter:
    return RedisRateLimiter.from_url(redis_url, prefix) if redis_url else MemoryRateLimiter()

"""Platform API plumbing: an access-token cache with single-flight refresh, and send retries.

Every platform hands out an access token that lives about two hours, may be invalidated early,
and is rate-limited when fetched too often. `TokenCache` fetches it once for all concurrent
senders: when twenty sends fail together with "token expired", each calls `refresh(stale)`;
the first fetches a new token under the lock, the rest find it already replaced.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

log = logging.getLogger("connectors.tokens")

T = TypeVar("T")

DEFAULT_MARGIN = 300.0  # refresh five minutes before the platform says the token expires
API_TIMEOUT = aiohttp.ClientTimeout(total=10)
SEND_ATTEMPTS = 4  # one call plus three retries
BACKOFF_BASE = 0.5  # seconds; doubles per retry, with jitter
BACKOFF_MAX = 8.0


class PlatformError(Exception):
    """A platform API refused a call; `retryable` when trying again may help."""

    def __init__(self, message: str, *, code: object = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class TokenExpired(PlatformError):
    """The platform rejected the access token as invalid or expired."""


@dataclass(frozen=True)
class Token:
    value: str
    expires_in: float  # seconds, as the platform reports it


class TokenCache:
    """One access token, fetched lazily, refreshed once for all concurrent callers."""

    def __init__(self, fetch: Callable[[], Awaitable[Token]], *, margin: float = DEFAULT_MARGIN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._margin = margin
        self._clock = clock
        self._lock = asyncio.Lock()
        self._value: str | None = None
        self._valid_until = 0.0
        self.fetches = 0  # how many times a token was fetched (tests and metrics)

    def _fresh(self) -> str | None:
        if self._value is not None and self._clock() < self._valid_until:
            return self._value
        return None

    async def get(self) -> str:
        """A token believed valid, fetching one when there is none or it is about to expire."""
        value = self._fresh()
        if value is not None:
            return value
        async with self._lock:
            value = self._fresh()
            if value is not None:
                return value
            return await self._load()

    async def refresh(self, stale: str) -> str:
        """The platform rejected `stale`: fetch a new token unless someone already did."""
        async with self._lock:
            if self._value is not None and self._value != stale and self._fresh():
                return self._value
            return await self._load()

    async def _load(self) -> str:
        token = await self._fetch()
        self.fetches += 1
        self._value = token.value
        # Keep a margin, but never less than a tenth of the lifetime (tiny test lifetimes).
        margin = min(self._margin, token.expires_in / 10 * 9)
        self._valid_until = self._clock() + max(token.expires_in - margin, 0.0)
        return token.value


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1-based): exponential with jitter."""
    delay: float = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempt - 1))
    return delay * (0.5 + random.random() / 2)


async def with_retries(call: Callable[[], Awaitable[T]], *, attempts: int = SEND_ATTEMPTS,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                       what: str = "platform call") -> T:
    """Run `call`, retrying retryable PlatformErrors with exponential backoff."""
    attempt = 1
    while True:
        try:
            return await call()
        except PlatformError as exc:
            if not exc.retryable or attempt >= attempts:
                raise
            delay = backoff_delay(attempt)
            log.warning("%s failed (%s, code=%s); retry %d in %.2fs", what, exc, exc.code,
                        attempt, delay)
            attempt += 1
            await sleep(delay)


async def with_token(tokens: TokenCache, call: Callable[[str], Awaitable[T]], *,
                     attempts: int = SEND_ATTEMPTS,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                     what: str = "platform call") -> T:
    """Run `call(token)` with retries; on TokenExpired refresh the token once and call again."""
    refreshed = False
    token = await tokens.get()

    async def once() -> T:
        nonlocal token, refreshed
        try:
            return await call(token)
        except TokenExpired:
            if refreshed:
                raise
            refreshed = True
            token = await tokens.refresh(token)
            return await call(token)

    return await with_retries(once, attempts=attempts, sleep=sleep, what=what)


async def request_json(http: aiohttp.ClientSession, method: str, url: str, *,
                       params: Mapping[str, str] | None = None, json: Any = None,
                       headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    """One HTTP call that answers JSON: (status, body). Network errors, 429 and 5xx are
    retryable PlatformErrors; the caller interprets the platform's own error codes."""
    try:
        async with http.request(method, url, params=params, json=json, headers=headers,
                                timeout=API_TIMEOUT) as resp:
            if resp.status == 429 or resp.status >= 500:
                raise PlatformError(f"HTTP {resp.status}", code=resp.status, retryable=True)
            try:
                data = await resp.json(content_type=None)
            except ValueError as exc:
                raise PlatformError(f"HTTP {resp.status} with a body that is not JSON",
                                    code=resp.status, retryable=False) from exc
            return resp.status, data
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise PlatformError(f"{type(exc).__name__}: {exc}", retryable=True) from exc

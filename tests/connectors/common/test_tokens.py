"""The token cache (single-flight refresh) and send retries."""

from __future__ import annotations

import asyncio

import pytest

from connectors.platform import KeyedLocks
from connectors.tokens import (
    PlatformError,
    Token,
    TokenCache,
    TokenExpired,
    with_retries,
    with_token,
)


async def no_sleep(_: float) -> None:
    return None


def counting_fetch(lifetime: float = 7200) -> tuple[TokenCache, list[int]]:
    calls: list[int] = []

    async def fetch() -> Token:
        calls.append(1)
        await asyncio.sleep(0.01)  # let every concurrent caller pile up behind the lock
        return Token(f"t{len(calls)}", lifetime)
    return TokenCache(fetch), calls


async def test_concurrent_first_gets_fetch_once() -> None:
    cache, calls = counting_fetch()
    assert set(await asyncio.gather(*(cache.get() for _ in range(20)))) == {"t1"}
    assert len(calls) == 1


async def test_concurrent_refreshes_of_the_same_stale_token_fetch_once() -> None:
    cache, calls = counting_fetch()
    stale = await cache.get()
    assert set(await asyncio.gather(*(cache.refresh(stale) for _ in range(20)))) == {"t2"}
    assert len(calls) == 2


async def test_a_token_is_refetched_before_it_expires() -> None:
    now = [0.0]
    calls: list[int] = []

    async def fetch() -> Token:
        calls.append(1)
        return Token(f"t{len(calls)}", 7200)
    cache = TokenCache(fetch, margin=300, clock=lambda: now[0])
    assert await cache.get() == "t1"
    now[0] = 6899
    assert await cache.get() == "t1"
    now[0] = 6901
    assert await cache.get() == "t2"


async def test_with_token_refreshes_once_then_gives_up() -> None:
    cache, calls = counting_fetch()
    seen: list[str] = []

    async def always_expired(token: str) -> None:
        seen.append(token)
        raise TokenExpired("expired", code=42001)
    with pytest.raises(TokenExpired):
        await with_token(cache, always_expired, sleep=no_sleep)
    assert seen == ["t1", "t2"] and len(calls) == 2


async def test_retryable_errors_are_retried_then_raised() -> None:
    attempts: list[int] = []

    async def busy() -> None:
        attempts.append(1)
        raise PlatformError("busy", code=-1, retryable=True)
    with pytest.raises(PlatformError):
        await with_retries(busy, attempts=4, sleep=no_sleep)
    assert len(attempts) == 4


async def test_permanent_errors_are_not_retried() -> None:
    attempts: list[int] = []

    async def refused() -> None:
        attempts.append(1)
        raise PlatformError("bad request", code=40008)
    with pytest.raises(PlatformError):
        await with_retries(refused, sleep=no_sleep)
    assert len(attempts) == 1


async def test_keyed_locks_serialise_one_key_in_order_and_clean_up() -> None:
    locks = KeyedLocks()
    order: list[int] = []

    async def work(i: int) -> None:
        async with locks.hold("conversation"):
            await asyncio.sleep(0.001 * (5 - i))
            order.append(i)
    await asyncio.gather(*(work(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4] and len(locks) == 0

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.exceptions

from gateway.state import MemoryState, RedisState, StateStore
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield MemoryState()
        return
    state = RedisState.from_url(REDIS_URL, prefix=f"test-{secrets.token_hex(4)}")
    yield state
    await state.close()


async def test_first_seen_is_true_once(store: StateStore) -> None:
    assert await store.first_seen("web:m1", ttl=60) is True
    assert await store.first_seen("web:m1", ttl=60) is False
    assert await store.first_seen("web:m2", ttl=60) is True


async def test_concurrent_first_seen_has_one_winner(store: StateStore) -> None:
    results = await asyncio.gather(*(store.first_seen("race", ttl=60) for _ in range(20)))
    assert results.count(True) == 1


async def test_route_set_get_clear(store: StateStore) -> None:
    assert await store.get_route("web:a") is None
    await store.set_route("web:a", "queued")
    assert await store.get_route("web:a") == "queued"
    await store.set_route("web:a", None)
    assert await store.get_route("web:a") is None


async def test_publish_reaches_subscribers_of_that_topic_only(store: StateStore) -> None:
    async with store.subscribe("web:a") as a_messages, store.subscribe("web:b") as b_messages:
        await asyncio.sleep(0.05)  # let the Redis subscription settle
        await store.publish("web:a", {"text": "您好"})
        a_iter, b_iter = aiter(a_messages), aiter(b_messages)
        assert await asyncio.wait_for(anext(a_iter), 2) == {"text": "您好"}
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(b_iter), 0.2)


async def test_ping(store: StateStore) -> None:
    await store.ping()


async def test_memory_dedup_expires() -> None:
    now = [0.0]
    store = MemoryState(clock=lambda: now[0])
    assert await store.first_seen("k", ttl=10)
    assert await store.seen("k")
    now[0] = 11.0
    assert not await store.seen("k")
    assert await store.first_seen("k", ttl=10)


async def test_redis_down_raises_on_ping() -> None:
    state = RedisState.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(redis.exceptions.ConnectionError):
        await state.ping()
    await state.close()


async def test_seen_reports_a_mark_without_making_one(store: StateStore) -> None:
    assert await store.seen("web:m5") is False
    assert await store.seen("web:m5") is False  # asking did not mark it
    assert await store.first_seen("web:m5", ttl=60)
    assert await store.seen("web:m5") is True
    await store.forget("web:m5")
    assert await store.seen("web:m5") is False


async def test_forget_undoes_first_seen(store: StateStore) -> None:
    assert await store.first_seen("web:m9", ttl=60)
    await store.forget("web:m9")
    assert await store.first_seen("web:m9", ttl=60)

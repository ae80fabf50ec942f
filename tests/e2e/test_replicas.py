"""Scale-out: two Rasa replicas sharing the Redis tracker store and `RedisLockStore`, two
gateways, one action server, PostgreSQL and Redis, all on loopback.

20 conversations of 10 turns each, every turn sent as soon as the previous one is answered and
alternating between the two gateways (so consecutive turns of one conversation pass through
different gateways and, after a failover, different Rasa replicas): every turn is answered,
and each conversation's tracker and message log hold its turns once each, in order. Then again
with one Rasa replica killed (SIGKILL) halfway through.

Expensive (two Rasa processes load the model: about 1 GB of memory each, a few minutes on two
cores), so it runs only with `make test-scale` (SCALE_TEST=1).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import text

from bench.driver import APOLOGIES
from bench.stack import MODEL, POSTGRES_URL, Stack
from casedb.engine import create_engine

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(os.environ.get("SCALE_TEST") != "1",
                       reason="expensive: run with `make test-scale` (SCALE_TEST=1)"),
]

CONVERSATIONS = 20
TURNS = 10
# Realistic turns; "(n)" makes every text of a conversation unique, so a doubled or lost turn
# shows in the tracker.
TEXTS = ("你好", "法律援助需要什么材料", "12348是什么电话", "你是机器人吗",
         "法律援助申请多久能批下来", "学历公证去哪办", "你能帮我做什么", "去哪里申请法律援助",
         "谢谢", "再见")
TIMEOUT = aiohttp.ClientTimeout(total=60)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    assert MODEL.is_file(), f"no trained model at {MODEL}: run `make train`"
    stack = Stack(tmp_path_factory.mktemp("replicas"), rasa_replicas=2, gateways=2,
                  # A replica killed while holding a conversation's lock blocks it this long;
                  # the gateways (same variable) wait that long before the survivor takes over.
                  extra_env={"TICKET_LOCK_LIFETIME": "10"})
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


async def converse(http: aiohttp.ClientSession, gateways: list[str], index: int,
                   on_turn: Callable[[], None]) -> tuple[str, list[str], list[str]]:
    """One person's conversation: (session id, texts sent, problems)."""
    async with http.post(f"{gateways[index % 2]}/channels/web/sessions") as resp:
        session = await resp.json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    sent: list[str] = []
    problems: list[str] = []
    for turn in range(TURNS):
        message = f"{TEXTS[(index + turn) % len(TEXTS)]}({turn + 1})"
        gateway = gateways[(index + turn) % 2]
        async with http.post(f"{gateway}/channels/web/messages", json={"text": message},
                             headers=auth, timeout=TIMEOUT) as resp:
            body: Any = await resp.json()
        sent.append(message)
        replies = [m.get("text") for m in body.get("messages", [])] if resp.status == 200 else []
        if not replies or any(r in APOLOGIES for r in replies):
            problems.append(f"turn {turn + 1} ({message}): HTTP {resp.status} {body}")
        on_turn()
    return session["session_id"], sent, problems


async def user_texts(http: aiohttp.ClientSession, stack: Stack, session_id: str,
                     rasa_url: str) -> list[str]:
    async with http.get(f"{rasa_url}/conversations/web:{session_id}/tracker",
                        params={"token": stack.token}, timeout=TIMEOUT) as resp:
        tracker = await resp.json()
    return [e["text"] for e in tracker["events"] if e.get("event") == "user"]


async def logged_texts(stack: Stack, session_id: str) -> list[str]:
    engine = create_engine(POSTGRES_URL, schema=stack.schema)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text(
                "SELECT m.text FROM message_log m JOIN conversation c ON c.id = m.conversation_id"
                " WHERE c.channel = 'web' AND c.external_id = :sid AND m.direction = 'in'"
                " ORDER BY m.id"), {"sid": session_id})
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def failovers(http: aiohttp.ClientSession, stack: Stack) -> float:
    """How often the gateways found a Rasa replica unreachable (their /metrics)."""
    total = 0.0
    for url in stack.gateway_urls:
        async with http.get(f"{url}/metrics") as resp:
            for line in (await resp.text()).splitlines():
                if line.startswith('legalbot_errors_total{kind="rasa_failover"}'):
                    total += float(line.rsplit(" ", 1)[1])
    return total


async def run_all(stack: Stack, kill_halfway: str | None = None) -> None:
    done = 0
    halfway = asyncio.Event()

    def on_turn() -> None:
        nonlocal done
        done += 1
        if done >= CONVERSATIONS * TURNS // 2:
            halfway.set()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        people = asyncio.gather(*(converse(http, stack.gateway_urls, i, on_turn)
                                  for i in range(CONVERSATIONS)))
        if kill_halfway is not None:
            await halfway.wait()
            stack.kill(kill_halfway)
        results = await people
        if kill_halfway is not None:
            assert await failovers(http, stack) > 0  # the gateways did fail over

        problems = [f"conversation {i}: {p}" for i, (_, _, ps) in enumerate(results) for p in ps]
        assert not problems, "\n".join(problems[:10])
        alive = [url for name, url in zip(stack.rasa_names, stack.rasa_urls, strict=True)
                 if name != kill_halfway]
        for i, (session_id, sent, _) in enumerate(results):
            # The shared tracker store: the same history from every live replica.
            for url in alive:
                assert await user_texts(http, stack, session_id, url) == sent, (
                    f"conversation {i} in the tracker of {url}")
            assert await logged_texts(stack, session_id) == sent, f"conversation {i} in the log"


async def test_turns_arrive_once_and_in_order_across_replicas_and_gateways(
        stack: Stack) -> None:
    await run_all(stack)


async def test_and_when_one_rasa_replica_is_killed_halfway(stack: Stack) -> None:
    await run_all(stack, kill_halfway=stack.rasa_names[0])

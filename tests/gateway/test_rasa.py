"""Several Rasa replicas: conversations spread by a stable hash, failover when one dies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import REGISTRY

from gateway.rasa import RasaClient, RasaUnavailable, parse_urls, replica_order
from tests.conftest import Database, FakeRasa, GatewayFactory


@dataclass
class Replica:
    fake: FakeRasa
    server: TestServer

    @property
    def url(self) -> str:
        return self.fake.url


async def start_replica(name: str) -> Replica:
    fake = FakeRasa(replies=lambda body: [{"text": f"{name}:{body['message']}"}])
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    return Replica(fake, server)


@pytest.fixture
async def replicas() -> AsyncIterator[list[Replica]]:
    started = [await start_replica("a"), await start_replica("b")]
    yield started
    for replica in started:
        await replica.server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def failovers() -> float:
    return REGISTRY.get_sample_value("legalbot_errors_total", {"kind": "rasa_failover"}) or 0.0


def test_rasa_url_lists_replicas_separated_by_commas() -> None:
    assert parse_urls("http://a:5005/, http://b:5005") == ["http://a:5005", "http://b:5005"]
    assert parse_urls("http://a:5005") == ["http://a:5005"]
    with pytest.raises(ValueError):
        parse_urls(" , ")


def test_a_sender_always_starts_at_the_same_replica_and_tries_every_one() -> None:
    orders = {sender: replica_order(sender, 3) for sender in (f"web:{i}" for i in range(300))}
    assert all(sorted(order) == [0, 1, 2] for order in orders.values())
    assert orders == {sender: replica_order(sender, 3) for sender in orders}  # stable
    firsts = [order[0] for order in orders.values()]
    assert all(firsts.count(i) > 60 for i in range(3))  # spread, roughly evenly


async def test_conversations_are_spread_and_each_sticks_to_its_replica(
        replicas: list[Replica], http: aiohttp.ClientSession) -> None:
    client = RasaClient(http, ",".join(r.url for r in replicas), "test-token")
    answered_by: dict[str, set[str]] = {}
    for i in range(20):
        sender = f"web:{i}"
        for turn in range(3):
            [reply] = await client.send(sender, f"m{turn}", input_channel="web")
            answered_by.setdefault(sender, set()).add((reply.text or "").split(":")[0])
    assert all(len(names) == 1 for names in answered_by.values())
    assert {name for names in answered_by.values() for name in names} == {"a", "b"}
    assert len(replicas[0].fake.received) + len(replicas[1].fake.received) == 60


async def test_a_dead_replica_is_skipped_and_every_turn_is_answered_once(
        replicas: list[Replica], http: aiohttp.ClientSession) -> None:
    client = RasaClient(http, [r.url for r in replicas], "test-token")
    senders = [f"web:{i}" for i in range(20)]
    on_a = [s for s in senders if replica_order(s, 2)[0] == 0]
    assert on_a
    before = failovers()

    await replicas[0].server.close()  # replica a stops answering
    replies = await asyncio.gather(*(client.send(s, "你好", input_channel="web")
                                     for s in senders))

    assert all(r[0].text == "b:你好" for r in replies)
    assert sorted(b["sender"] for b in replicas[1].fake.received) == sorted(senders)
    assert failovers() >= before + 1
    # a's conversations now start at b without waiting for a again
    assert client.replicas_for(on_a[0])[0] == replicas[1].url


async def test_a_replica_dying_in_the_middle_of_a_turn_fails_over(
        replicas: list[Replica], http: aiohttp.ClientSession, waits: Waits) -> None:
    async def dies(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()  # the process went away while answering
        await asyncio.sleep(1)
        return web.Response()

    dying = TestServer(web.Application(), host="127.0.0.1")
    dying.app.router.add_post("/webhooks/rest/webhook", dies)
    await dying.start_server()
    try:
        dying_url = str(dying.make_url("")).rstrip("/")
        sender = next(s for s in (f"web:{i}" for i in range(100)) if replica_order(s, 2)[0] == 0)
        client = RasaClient(http, [dying_url, replicas[1].url], "test-token",
                            takeover_delay=12.0, sleep=waits)
        [reply] = await client.send(sender, "你好", input_channel="web")
    finally:
        await dying.close()
    assert reply.text == "b:你好"
    # b was asked only after a's lock ticket (TICKET_LOCK_LIFETIME + 1 s) could expire
    assert waits == [12.0]


class Waits(list[float]):
    """The takeover waits of a RasaClient (recorded, not slept)."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


async def test_a_replica_that_refuses_is_skipped_without_waiting(
        replicas: list[Replica], http: aiohttp.ClientSession, waits: Waits) -> None:
    client = RasaClient(http, [r.url for r in replicas], "test-token", takeover_delay=12.0,
                        sleep=waits)
    sender = next(s for s in (f"web:{i}" for i in range(100)) if replica_order(s, 2)[0] == 0)
    await replicas[0].server.close()  # never accepted the turn: it holds no lock
    [reply] = await client.send(sender, "你好", input_channel="web")
    assert reply.text == "b:你好" and waits == []


async def test_a_slow_replica_is_not_asked_twice(
        replicas: list[Replica], http: aiohttp.ClientSession) -> None:
    """It accepted the turn and may still finish it: a second replica would double it."""
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response([])

    sluggish = TestServer(web.Application(), host="127.0.0.1")
    sluggish.app.router.add_post("/webhooks/rest/webhook", slow)
    await sluggish.start_server()
    try:
        url = str(sluggish.make_url("")).rstrip("/")
        sender = next(s for s in (f"web:{i}" for i in range(100)) if replica_order(s, 2)[0] == 0)
        client = RasaClient(http, [url, replicas[1].url], "test-token", timeout=0.3)
        with pytest.raises(RasaUnavailable):
            await client.send(sender, "你好", input_channel="web")
    finally:
        await sluggish.close()
    assert replicas[1].fake.received == []


async def test_an_error_answer_is_not_retried_elsewhere(
        replicas: list[Replica], http: aiohttp.ClientSession) -> None:
    replicas[0].fake.status = 500
    replicas[1].fake.status = 500
    client = RasaClient(http, [r.url for r in replicas], "test-token")
    with pytest.raises(RasaUnavailable, match="HTTP 500"):
        await client.send("web:x", "你好", input_channel="web")
    assert len(replicas[0].fake.received) + len(replicas[1].fake.received) == 1


async def test_no_replica_left_is_unavailable(http: aiohttp.ClientSession) -> None:
    client = RasaClient(http, "http://127.0.0.1:1,http://127.0.0.1:2", "t")
    with pytest.raises(RasaUnavailable, match="no Rasa replica reachable"):
        await client.send("web:x", "你好", input_channel="web")
    with pytest.raises(RasaUnavailable) as info:
        await client.status()
    assert "127.0.0.1:1" in str(info.value) and "127.0.0.1:2" in str(info.value)


async def test_status_and_erase_use_a_live_replica(
        replicas: list[Replica], http: aiohttp.ClientSession) -> None:
    await replicas[0].server.close()
    client = RasaClient(http, [r.url for r in replicas], "test-token")
    assert (await client.status())["model_file"]
    await client.erase_tracker("web:gone")
    assert replicas[1].fake.erased == ["web:gone"]


async def test_the_gateway_reads_several_replicas_from_rasa_url_and_stays_ready(
        gateway: GatewayFactory, sqlite_database: Database, replicas: list[Replica]) -> None:
    await replicas[0].server.close()
    client = await gateway(sqlite_database, rasa_url=f"{replicas[0].url},{replicas[1].url}",
                           rasa_token="test-token")
    assert (await client.get("/readyz")).status == 200
    session = await (await client.post("/channels/web/sessions")).json()
    for text in ("你好", "谢谢"):
        resp = await client.post("/channels/web/messages", json={"text": text},
                                 headers={"Authorization": f"Bearer {session['token']}"})
        assert (await resp.json())["messages"] == [{"text": f"b:{text}"}]


async def test_a_hung_replica_does_not_hide_a_ready_one(
        replicas: list[Replica], http: aiohttp.ClientSession) -> None:
    async def hangs(request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.json_response({})

    hung = TestServer(web.Application(), host="127.0.0.1")
    hung.app.router.add_get("/status", hangs)
    await hung.start_server()
    try:
        client = RasaClient(http, [str(hung.make_url("")).rstrip("/"), replicas[1].url],
                            "test-token")
        started = asyncio.get_running_loop().time()
        assert (await asyncio.wait_for(client.status(), 5))["model_file"]
        assert asyncio.get_running_loop().time() - started < 2
    finally:
        await hung.close()

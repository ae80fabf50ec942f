from __future__ import annotations

from tests.conftest import Database, FakeRasa, GatewayFactory


async def test_ready_when_everything_answers(
        gateway: GatewayFactory, database: Database) -> None:
    client = await gateway(database, redis_url="redis://127.0.0.1:6379/0")
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ready", "checks": {
        "database": "ok", "rasa": "ok", "action_server": "ok", "redis": "ok"}}


async def test_503_names_what_is_down(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database, action_server_url="http://127.0.0.1:1",
                           redis_url="redis://127.0.0.1:1/0")
    resp = await client.get("/readyz")
    assert resp.status == 503
    body = await resp.json()
    assert body["checks"] == {"database": "ok", "rasa": "ok", "action_server": "down",
                              "redis": "down"}
    assert set(body["down"]) == {"action_server", "redis"}


async def test_wrong_rasa_token_is_not_ready(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database, rasa_token="wrong")
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["checks"]["rasa"] == "down"


async def test_missing_database_is_not_ready(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database,
                           database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none")
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["checks"]["database"] == "down"

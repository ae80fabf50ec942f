from __future__ import annotations

from tests.conftest import Database, FakeRasa, GatewayFactory

AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # WeCom's sample EncodingAESKey


async def test_ready_when_everything_answers(
        gateway: GatewayFactory, database: Database) -> None:
    client = await gateway(database, redis_url="redis://127.0.0.1:6379/0")
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ready", "checks": {
        "database": "ok", "rasa": "ok", "action_server": "ok", "redis": "ok"},
        "channels": ["web"]}


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


async def test_configured_platforms_are_mounted_and_listed(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    env = {"WECOM_CORP_ID": "ww-corp", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s",
           "WECOM_TOKEN": "t", "WECOM_ENCODING_AES_KEY": AES_KEY}
    client = await gateway(sqlite_database, channel_env=env)
    resp = await client.get("/readyz")
    assert (await resp.json())["channels"] == ["web", "wecom"]
    # mounted: URL verification without a valid signature is refused, not 404
    assert (await client.get("/channels/wecom/callback")).status in (400, 403)


def test_a_malformed_platform_setting_stops_startup() -> None:
    import pytest

    from gateway.app import create_app
    from gateway.settings import Settings, SettingsError

    env = {"WECOM_CORP_ID": "ww-corp", "WECOM_AGENT_ID": "not-a-number", "WECOM_SECRET": "s",
           "WECOM_TOKEN": "t", "WECOM_ENCODING_AES_KEY": AES_KEY}
    with pytest.raises(SettingsError):
        create_app(Settings(channel_env=env))

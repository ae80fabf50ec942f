"""Which platforms are mounted, and the app the lead's `gateway/app.py` will build."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.registry import platform_channels
from tests.conftest import Database, FakeRasa
from tests.connectors.fakes import start_gateway

ALL = {
    "WECOM_CORP_ID": "ww1", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s",
    "WECOM_TOKEN": "t", "WECOM_ENCODING_AES_KEY": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
    "WECOM_KF_SECRET": "s", "WECOM_KF_TOKEN": "t",
    "WECOM_KF_ENCODING_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s", "WECHAT_TOKEN": "t",
    "WECHAT_ENCODING_AES_KEY": "",
    "DINGTALK_APP_KEY": "k", "DINGTALK_APP_SECRET": "s",
    "FEISHU_APP_ID": "cli", "FEISHU_APP_SECRET": "s", "FEISHU_VERIFICATION_TOKEN": "v",
    "FEISHU_ENCRYPT_KEY": "e",
}


def test_nothing_configured_mounts_nothing() -> None:
    assert platform_channels({}) == []


def test_everything_configured_mounts_every_platform() -> None:
    assert [c.name for c in platform_channels(ALL)] == [
        "wecom", "wecom_kf", "wechat", "dingtalk", "feishu"]


def test_a_platform_with_a_missing_setting_is_not_mounted() -> None:
    env = {**ALL, "WECOM_SECRET": "", "FEISHU_ENCRYPT_KEY": "  "}
    del env["DINGTALK_APP_SECRET"]
    assert [c.name for c in platform_channels(env)] == ["wecom_kf", "wechat"]


def test_kf_needs_the_corp_id_too() -> None:
    env = {k: v for k, v in ALL.items() if k != "WECOM_CORP_ID"}
    assert "wecom_kf" not in [c.name for c in platform_channels(env)]


@pytest.mark.parametrize(("name", "value"), [("WECOM_AGENT_ID", "abc"),
                                             ("WECOM_ENCODING_AES_KEY", "short")])
def test_malformed_settings_fail_at_startup(name: str, value: str) -> None:
    with pytest.raises(ValueError):
        platform_channels({**ALL, name: value})


async def test_every_platform_mounts_its_webhook_next_to_the_web_channel(
        aiohttp_client: Any, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await start_gateway(aiohttp_client, sqlite_database, fake_rasa,
                                 *platform_channels(ALL))
    paths = {r.resource.canonical for r in client.app.router.routes() if r.resource}
    assert {"/channels/wecom/callback", "/channels/wecom-kf/callback",
            "/channels/wechat/callback", "/channels/dingtalk/robot",
            "/channels/feishu/events", "/channels/web/messages"} <= paths
    # unsigned requests are refused everywhere
    for path in ("/channels/wecom/callback", "/channels/wecom-kf/callback",
                 "/channels/wechat/callback", "/channels/dingtalk/robot"):
        assert (await client.post(path, data=b"<xml/>")).status in (400, 401, 403)

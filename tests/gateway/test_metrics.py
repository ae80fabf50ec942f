"""`/metrics` on the gateway: turn stages per channel, errors by kind, the handoff gauges."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from gateway import metrics
from tests.conftest import Client, Database, GatewayFactory


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def stage_count(channel: str, stage: str) -> float:
    return value("legalbot_turn_stage_seconds_count", channel=channel, stage=stage)


async def say(client: Client, text: str) -> None:
    session = await (await client.post("/channels/web/sessions")).json()
    resp = await client.post("/channels/web/messages", json={"text": text},
                             headers={"Authorization": f"Bearer {session['token']}"})
    assert resp.status == 200


async def test_metrics_are_prometheus_text_with_each_stage_of_a_web_turn(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database)
    before = {stage: stage_count("web", stage) for stage in ("accept", "rasa", "gateway")}

    await say(client, "你好")
    resp = await client.get("/metrics")

    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    assert families["legalbot_turn_stage_seconds"].type == "histogram"
    for stage, count in before.items():
        assert stage_count("web", stage) == count + 1, stage
    samples = {(s.name, s.labels.get("channel"), s.labels.get("stage"))
               for s in families["legalbot_turn_stage_seconds"].samples}
    assert ("legalbot_turn_stage_seconds_count", "web", "rasa") in samples


async def test_an_unreachable_bot_is_counted_as_an_error(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database, rasa_url="http://127.0.0.1:1")
    before = value("legalbot_errors_total", kind="rasa_unavailable")

    await say(client, "我想申请法律援助")

    assert value("legalbot_errors_total", kind="rasa_unavailable") == before + 1
    text = await (await client.get("/metrics")).text()
    assert 'legalbot_errors_total{kind="rasa_unavailable"}' in text


async def test_a_silent_bot_is_counted_as_an_error(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: object) -> None:
    setattr(fake_rasa, "replies", lambda body: [])  # noqa: B010 - FakeRasa is a dataclass
    client = await gateway(sqlite_database)
    before = value("legalbot_errors_total", kind="rasa_no_answer")
    await say(client, "你好")
    assert value("legalbot_errors_total", kind="rasa_no_answer") == before + 1


def test_handoff_gauges_are_set_through_functions() -> None:
    metrics.set_handoff_queue(3, oldest_wait_s=42.5)
    before = value("legalbot_handoff_wait_seconds_count")
    metrics.observe_handoff_wait(30.0)

    assert value("legalbot_handoff_queue_length") == 3
    assert value("legalbot_handoff_oldest_wait_seconds") == 42.5
    assert value("legalbot_handoff_wait_seconds_count") == before + 1
    text = metrics.exposition().decode()
    assert "legalbot_handoff_queue_length 3.0" in text
    metrics.set_handoff_queue(0)
    assert value("legalbot_handoff_queue_length") == 0


def test_timed_observes_even_when_the_block_fails() -> None:
    before = stage_count("wecom", "send")
    try:
        with metrics.timed("wecom", "send"):
            raise RuntimeError("platform refused")
    except RuntimeError:
        pass
    assert stage_count("wecom", "send") == before + 1

"""JSON logs with the turn id: the formatter, the masking, and one turn followed end to end."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from gateway import logs
from tests.conftest import Database, FakeRasa, GatewayFactory


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """`logs.configure` on a string stream; pytest's own handlers come back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    logs.configure("INFO", "json", service="gateway", stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_line_with_the_turn_id_and_extra_fields(
        log_stream: io.StringIO) -> None:
    with logs.turn("t-1"):
        logging.getLogger("gateway.test").info("turn ms=%.1f", 12.34, extra={"replies": 2})
    logging.getLogger("gateway.test").warning("outside")

    inside, outside = lines(log_stream)
    assert inside["msg"] == "turn ms=12.3"
    assert inside["turn_id"] == "t-1"
    assert inside["replies"] == 2
    assert (inside["level"], inside["logger"], inside["service"]) == (
        "INFO", "gateway.test", "gateway")
    assert inside["ts"].endswith("+00:00")  # UTC
    assert "turn_id" not in outside
    assert logs.current_turn_id() is None


def test_personal_data_is_masked_in_messages_and_tracebacks(log_stream: io.StringIO) -> None:
    log = logging.getLogger("gateway.test")
    log.info("user said %s", "我的电话是13912345678")
    try:
        raise ValueError("bad id 320402199001011234")
    except ValueError:
        log.exception("failed")

    said, failed = lines(log_stream)
    assert "13912345678" not in said["msg"] and "<phone>" in said["msg"]
    assert "320402199001011234" not in failed["exc"] and "<id-number>" in failed["exc"]
    assert "ValueError" in failed["exc"]


def test_text_format_keeps_the_turn_id() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        logs.configure("INFO", "text", stream=stream)
        with logs.turn("abc"):
            logging.getLogger("x").info("hello 13912345678")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
    assert "INFO x [abc] hello <phone>" in stream.getvalue()


async def test_a_task_started_in_a_turn_keeps_its_turn_id() -> None:
    seen: list[str | None] = []

    async def background() -> None:
        await asyncio.sleep(0)
        seen.append(logs.current_turn_id())

    with logs.turn("t-2"):
        task = asyncio.create_task(background())
    await task
    assert seen == ["t-2"]


def test_turn_ids_from_elsewhere_are_checked() -> None:
    assert logs.valid_turn_id("0123abcd") == "0123abcd"
    assert logs.valid_turn_id("x" * 65) is None
    assert logs.valid_turn_id("a\nb") is None
    assert logs.valid_turn_id(7) is None


async def test_one_web_turn_carries_one_id_from_the_request_to_rasa_and_the_log(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa,
        log_stream: io.StringIO) -> None:
    client = await gateway(sqlite_database)
    session = await (await client.post("/channels/web/sessions")).json()

    resp = await client.post("/channels/web/messages", json={"text": "你好"},
                             headers={"Authorization": f"Bearer {session['token']}"})

    turn_id = resp.headers[logs.TURN_HEADER]
    assert len(turn_id) == 16
    assert fake_rasa.received[-1]["metadata"][logs.TURN_METADATA_KEY] == turn_id
    turn_lines = [line for line in lines(log_stream) if line["msg"].startswith("turn ")]
    assert [line["turn_id"] for line in turn_lines] == [turn_id]
    assert turn_lines[0]["logger"] == "gateway.router"
    other = await client.post("/channels/web/sessions")
    assert other.headers[logs.TURN_HEADER] != turn_id  # every request has its own

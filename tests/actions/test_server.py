"""`python -m actions.server`: rasa_sdk's action server with `/metrics` and JSON logs that carry
the gateway's turn id, run as the Procfile runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from actions.server import describe_call
from gateway.cli import main as legalbot

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Server:
    url: str
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("actions")
    database = f"sqlite+aiosqlite:///{tmp / 'case.db'}"
    env = {**os.environ, "DATABASE_URL": database, "LOG_FORMAT": "json"}
    env.pop("DATABASE_SCHEMA", None)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database
    try:
        assert legalbot(["db", "upgrade"]) == 0
        assert legalbot(["directory", "sample"]) == 0
    finally:
        if saved is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = saved
    port = free_port()
    log = tmp / "actions.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if call(f"{url}/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"action server not up:\n{log.read_text()}"
            time.sleep(0.3)
        yield Server(url, log)
    finally:
        process.terminate()
        process.wait(timeout=20)


def action_call(action: str, turn_id: str | None) -> dict[str, Any]:
    metadata = {"channel": "web"} | ({"turn_id": turn_id} if turn_id else {})
    return {"next_action": action, "sender_id": "web:s1", "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": "web:s1", "slots": {}, "events": [], "paused": False,
                        "latest_input_channel": "web", "active_loop": {},
                        "latest_action_name": "action_listen",
                        "latest_message": {"text": "你好", "intent": {"name": "greet"},
                                           "entities": [], "metadata": metadata}}}


def metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_an_action_run_is_timed_and_logged_with_the_turn_id(server: Server) -> None:
    status, body = call(f"{server.url}/webhook", action_call("action_greet", "turn0001"))

    assert status == 200
    assert "您好" in json.dumps(json.loads(body), ensure_ascii=False)
    _, exposition = call(f"{server.url}/metrics")
    text = exposition.decode()
    assert metric(text, 'legalbot_action_seconds_count{action="action_greet"}') >= 1
    assert metric(text, 'legalbot_turn_stage_seconds_count{channel="web",stage="actions"}') >= 1
    deadline = time.monotonic() + 5
    while True:
        records = [json.loads(line) for line in server.log.read_text().splitlines()
                   if line.startswith("{")]
        mine = [r for r in records if r.get("turn_id") == "turn0001"]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert any(r["msg"].startswith("action action_greet channel=web status=200") for r in mine)
    assert all(r["service"] == "actions" for r in mine)


def test_a_failing_call_is_still_timed(server: Server) -> None:
    status, _ = call(f"{server.url}/webhook", action_call("action_does_not_exist", None))
    assert status == 404
    _, exposition = call(f"{server.url}/metrics")
    assert metric(exposition.decode(),
                  'legalbot_action_seconds_count{action="action_does_not_exist"}') == 1


def test_describe_call_reads_what_rasa_sends() -> None:
    assert describe_call(action_call("action_greet", "t1")) == ("action_greet", "web", "t1")
    assert describe_call({}) == ("unknown", "unknown", None)
    bad = action_call("action_greet", "x\ny")
    assert describe_call(bad)[2] is None

"""End to end: `scripts/run.sh` (what `make run` runs) starts Rasa, the action server and the
gateway; the web channel contract is driven over real HTTP; Ctrl-C stops all three."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "current.tar.gz"
STARTUP_LIMIT_S = 240

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def call(method: str, url: str, body: dict[str, Any] | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    database: Path
    token: str
    log: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['GATEWAY_PORT']}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    assert MODEL.is_file(), f"no trained model at {MODEL}: run `make train` (make test does)"
    tmp = tmp_path_factory.mktemp("stack")
    ports = {name: free_port() for name in ("RASA_PORT", "ACTION_SERVER_PORT", "GATEWAY_PORT")}
    database = tmp / "e2e.db"
    token = "e2e-" + os.urandom(8).hex()
    env = {k: v for k, v in os.environ.items()
           if k not in ("RASA_URL", "ACTION_SERVER_URL", "REDIS_URL", "DATABASE_SCHEMA")}
    env.update({k: str(v) for k, v in ports.items()})
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{database}", RASA_TOKEN=token,
               WEB_SESSION_SECRET="e2e-secret-" + os.urandom(8).hex())
    log = tmp / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(process, ports, database, token, log)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            assert process.poll() is None, f"stack exited early:\n{log.read_text()[-4000:]}"
            if port_open(ports["GATEWAY_PORT"]):
                status, _ = call("GET", f"{stack.gateway}/readyz")
                if status == 200:
                    break
            time.sleep(1)
        else:
            pytest.fail(f"stack not ready in {STARTUP_LIMIT_S}s:\n{log.read_text()[-4000:]}")
        yield stack
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the stack as Ctrl-C would (honcho then stops its children, which live in process
    groups of their own), and kill it only if that does not work."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_greeting_travels_the_whole_chain_and_is_logged(stack: Stack) -> None:
    status, session = call("POST", f"{stack.gateway}/channels/web/sessions")
    assert status == 201
    auth = {"Authorization": f"Bearer {session['token']}"}

    status, body = call("POST", f"{stack.gateway}/channels/web/messages", {"text": "你好"}, auth)

    assert status == 200
    # A new conversation opens with the privacy notice, then the greeting.
    notice, greeting = body["messages"]
    assert "个人信息保护法" in notice["text"] and "删除我的信息" in notice["text"]
    # The action read the sample directory from the case database.
    assert greeting["text"].startswith("您好!我是")
    assert "7家法律援助中心、3家公证处、3个法律服务联系点" in greeting["text"]
    with sqlite3.connect(stack.database) as db:
        rows = db.execute("SELECT m.direction, m.text, c.external_id FROM message_log m "
                          "JOIN conversation c ON c.id = m.conversation_id "
                          "WHERE c.channel = 'web' ORDER BY m.id").fetchall()
    assert rows == [("in", "你好", session["session_id"]),
                    ("out", notice["text"], session["session_id"]),
                    ("out", greeting["text"], session["session_id"])]


def test_contract_errors_on_the_running_stack(stack: Stack) -> None:
    status, body = call("POST", f"{stack.gateway}/channels/web/messages", {"text": "你好"})
    assert (status, body["error"]) == (401, "unauthorized")
    _, session = call("POST", f"{stack.gateway}/channels/web/sessions")
    auth = {"Authorization": f"Bearer {session['token']}"}
    status, body = call("POST", f"{stack.gateway}/channels/web/messages", {"text": ""}, auth)
    assert (status, body["error"]) == (400, "empty_text")
    status, body = call("POST", f"{stack.gateway}/channels/web/messages", {"text": "长" * 2001},
                        auth)
    assert status == 413


def test_conversation_keeps_context_across_turns(stack: Stack) -> None:
    _, session = call("POST", f"{stack.gateway}/channels/web/sessions")
    auth = {"Authorization": f"Bearer {session['token']}"}
    call("POST", f"{stack.gateway}/channels/web/messages", {"text": "您好"}, auth)
    status, body = call("POST", f"{stack.gateway}/channels/web/messages", {"text": "谢谢"}, auth)
    assert status == 200
    assert body["messages"][0]["text"].startswith("不客气")


def test_delete_my_data_really_deletes(stack: Stack) -> None:
    _, session = call("POST", f"{stack.gateway}/channels/web/sessions")
    auth = {"Authorization": f"Bearer {session['token']}"}
    url = f"{stack.gateway}/channels/web/messages"
    call("POST", url, {"text": "你好"}, auth)
    _, body = call("POST", url, {"text": "请删除我的个人信息"}, auth)
    assert body["messages"][0]["buttons"][0]["payload"] == "/affirm"
    _, body = call("POST", url, {"payload": "/affirm", "text": "确认删除"}, auth)
    assert body == {"messages": [{"text": "已删除您在本服务中的对话记录和个人信息。"
                                          "如需再次咨询,随时发消息给我即可。"}]}
    with sqlite3.connect(stack.database) as db:
        left = db.execute("SELECT count(*) FROM conversation WHERE external_id = ?",
                          (session["session_id"],)).fetchone()
    assert left == (0,)
    rasa = f"http://127.0.0.1:{stack.ports['RASA_PORT']}"
    status, tracker = call("GET", f"{rasa}/conversations/web:{session['session_id']}/tracker"
                           f"?token={stack.token}")
    assert status == 200
    assert not [e for e in tracker["events"] if e.get("event") == "user"]


def web_chat(stack: Stack) -> tuple[str, Callable[[dict[str, str]], list[dict[str, Any]]]]:
    """A new web session: its id, and `say(body)`, which sends one message and returns the
    bot's messages."""
    _, session = call("POST", f"{stack.gateway}/channels/web/sessions")
    auth = {"Authorization": f"Bearer {session['token']}"}
    url = f"{stack.gateway}/channels/web/messages"

    def say(body: dict[str, str]) -> list[dict[str, Any]]:
        status, reply = call("POST", url, body, auth)
        assert status == 200, reply
        messages: list[dict[str, Any]] = reply["messages"]
        return messages

    return str(session["session_id"]), say


def test_a_graduate_owed_wages_is_screened_and_files_a_pre_application(stack: Stack) -> None:
    session_id, say = web_chat(stack)

    # Three turns: the situation, the household size, the income.
    first = say({"text": "我是应届毕业生,公司拖欠我三个月工资"})
    assert "几口人" in first[-1]["text"]
    assert "每月的总收入" in say({"text": "3口人"})[-1]["text"]
    result, offer = say({"text": "四千"})
    assert result["text"].startswith("初步判断:您的情况很可能符合法律援助条件")
    assert "第三十一条" in result["text"]
    assert "预申请" in offer["text"]

    assert "哪个区" in say({"payload": "/affirm", "text": "提交预申请"})[-1]["text"]
    assert "手机号码" in say({"payload": '/inform{"district": "武进区"}', "text": "武进区"})[-1][
        "text"]
    assert "确认提交" in say({"text": "13912345678"})[-1]["text"]
    [done] = say({"payload": "/affirm", "text": "确认提交"})
    reference = re.search(r"FY-[23456789A-HJ-NP-Z]{8}", done["text"])
    assert reference is not None
    with sqlite3.connect(stack.database) as db:
        row = db.execute("SELECT channel, external_id, phone, outcome, district "
                         "FROM legal_aid_application WHERE reference = ?",
                         (reference.group(0),)).fetchone()
    assert row == ("web", session_id, "13912345678", "likely_eligible", "武进区")

    # The status look-up: the reference, then the phone's last 4 digits.
    assert "FY-" in say({"text": "我想查一下法律援助申请的进度"})[-1]["text"]
    assert "后4位" in say({"text": reference.group(0)})[-1]["text"]
    [status] = say({"text": "5678"})
    assert reference.group(0) in status["text"] and "已提交" in status["text"]


def test_an_enterprise_books_a_consultation_in_a_few_turns(stack: Stack) -> None:
    _, session = call("POST", f"{stack.gateway}/channels/web/sessions")
    auth = {"Authorization": f"Bearer {session['token']}"}
    url = f"{stack.gateway}/channels/web/messages"
    answers = {"手机号码": {"text": "13912345678"}, "哪方面": {"text": "劳动用工"},
               "哪个区": {"payload": '/inform{"district": "武进区"}', "text": "武进区"}}

    first = "帮我预约下周三上午武进区的法律咨询，问劳动合同的问题"
    status, reply = call("POST", url, {"text": first}, auth)
    code = None
    for turn in range(5):  # the first message, then at most four more turns
        assert status == 200, reply
        texts = "\n".join(m.get("text") or "" for m in reply["messages"])
        found = re.search(r"YY-[23456789A-HJ-NP-Z]{8}", texts)
        if found or turn == 4:
            code = found.group(0) if found else None
            break
        buttons = [b for m in reply["messages"] for b in m.get("buttons") or []]
        choices = [b for b in buttons
                   if b["payload"] == "/affirm" or "booking_slot" in b["payload"]]
        if choices:
            body = {"payload": choices[0]["payload"], "text": choices[0]["title"]}
        else:
            body = next(v for k, v in answers.items() if k in texts)
        status, reply = call("POST", url, body, auth)
    assert code is not None, reply
    with sqlite3.connect(stack.database) as db:
        row = db.execute("SELECT channel, external_id, phone, status FROM booking WHERE code = ?",
                         (code,)).fetchone()
    assert row is not None and row[:3] == ("web", session["session_id"], "13912345678")


def test_rasa_api_needs_its_token(stack: Stack) -> None:
    rasa = f"http://127.0.0.1:{stack.ports['RASA_PORT']}"
    status, _ = call("GET", f"{rasa}/status")
    assert status == 401
    status, body = call("GET", f"{rasa}/status?token={stack.token}")
    assert status == 200 and body["model_file"]


def test_ctrl_c_stops_all_three(stack: Stack) -> None:
    os.killpg(stack.process.pid, signal.SIGINT)
    stack.process.wait(timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(port_open(p) for p in stack.ports.values()):
        time.sleep(0.5)
    assert not [name for name, port in stack.ports.items() if port_open(port)]

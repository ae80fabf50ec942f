"""The log scan (issue 10): a scripted conversation on the running stack gives a mobile number,
an ID card number and a name; afterwards no log file and no line any process wrote to stdout or
stderr contains any of them (they are in the case database, where they belong).

The stack runs at LOG_LEVEL=DEBUG, where Rasa logs every user message and the action server
its tracker: the worst case, so the scan proves the masking, not a quiet log level."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_stack import ROOT, Stack, web_chat
from tests.e2e.test_stack import stack as stack  # the running-stack fixture

pytestmark = pytest.mark.e2e

PHONE = "13957461230"
ID_NUMBER = "32040219880716423X"
NAME = "欧阳子萱"
# Also as JSON escapes ("\u6b27\u9633..."): decodable is readable.
SECRETS = (PHONE, ID_NUMBER, NAME, "1395746", "0716423",
           NAME.encode("ascii", "backslashreplace").decode("ascii"))


@pytest.fixture(scope="module", autouse=True)
def debug_logging() -> Iterator[None]:
    """Start the stack (it copies the environment) with every process at DEBUG."""
    previous = os.environ.get("LOG_LEVEL")
    os.environ["LOG_LEVEL"] = "DEBUG"
    yield
    if previous is None:
        os.environ.pop("LOG_LEVEL", None)
    else:
        os.environ["LOG_LEVEL"] = previous


def conversation(stack: Stack) -> str:
    session_id, say = web_chat(stack)
    say({"text": "你好"})
    say({"text": f"我叫{NAME}，身份证号{ID_NUMBER}，电话{PHONE}，公司拖欠我三个月工资"})
    say({"text": f"姓名：{NAME}"})
    say({"text": "3口人"})
    say({"text": "四千"})
    say({"payload": "/affirm", "text": "提交预申请"})
    say({"payload": '/inform{"district": "武进区"}', "text": "武进区"})
    say({"text": PHONE})
    say({"payload": "/affirm", "text": "确认提交"})
    return session_id


def log_files(stack: Stack) -> list[Path]:
    """Everything a process of the stack could have written a log to."""
    candidates = [stack.log, *stack.log.parent.rglob("*.log"), *(ROOT / "var").rglob("*.log")]
    return sorted({p for p in candidates if p.is_file()})


def test_no_personal_data_in_any_log_line(stack: Stack) -> None:
    session_id = conversation(stack)
    with sqlite3.connect(stack.database) as db:  # the data did reach the case database
        texts = [t for (t,) in db.execute(
            "SELECT m.text FROM message_log m JOIN conversation c ON c.id = m.conversation_id "
            "WHERE c.external_id = ? AND m.direction = 'in'", (session_id,))]
    assert any(PHONE in (t or "") for t in texts) and any(NAME in (t or "") for t in texts)

    leaks: list[str] = []
    files = log_files(stack)
    assert stack.log in files and stack.log.stat().st_size > 0
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if any(secret in line for secret in SECRETS):
                leaks.append(f"{path.name}:{number}: {line[:200]}")
    # Personal data did reach the log lines, masked: the scan looked at what matters.
    logged = stack.log.read_text(errors="replace")
    assert re.search(r"<phone>|<id-number>|<name>", logged), "nothing was masked at DEBUG?"
    assert leaks == []

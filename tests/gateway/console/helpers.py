"""Helpers of the handoff and console tests: staff accounts, sign-in, a bot that hands off."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aiohttp import web

from casedb.handoff import StaffRepository
from casedb.models import StaffRole
from gateway.console.auth import hash_password
from gateway.handoff import WorkingHours
from gateway.keys import handoff_key
from tests.conftest import Client, Database, FakeRasa

PASSWORD = "correct horse battery"
CASE_CARD = {"intents": ["legal_aid_eligibility", "request_human"],
             "slots": {"matter": "labour_remuneration", "district": "武进区"}}


class AlwaysOpen(WorkingHours):
    def __init__(self) -> None:
        super().__init__([])

    def is_open(self, at: datetime) -> bool:
        return True


class NeverOpen(WorkingHours):
    def __init__(self) -> None:
        super().__init__(["09:00-12:00"])

    def is_open(self, at: datetime) -> bool:
        return False


def handing_off_bot(fake_rasa: FakeRasa, team: str = "legal_aid",
                    card: dict[str, Any] | None = None) -> None:
    """The fake bot hands off on "转人工" (as actions/handoff.py does) with `card` (CASE_CARD
    unless given) as the case card, else echoes."""
    def replies(body: dict[str, Any]) -> list[dict[str, Any]]:
        if body["message"] in ("转人工", "/request_human"):
            return [{"text": "好的,正在为您转接人工服务。"},
                    {"custom": {"handoff": {"team": team, "reason": "request_human",
                                            "case_card": card or CASE_CARD}}}]
        return [{"text": f"收到:{body['message']}"}]
    fake_rasa.replies = replies


def open_hours(client: Client, hours: WorkingHours | None = None) -> None:
    app: web.Application = client.app
    app[handoff_key].hours = hours or AlwaysOpen()


async def add_staff(db: Database, name: str, *, team: str = "legal_aid",
                    role: StaffRole = StaffRole.STAFF) -> int:
    async with db.sessions.begin() as session:
        user = await StaffRepository(session).add(name, hash_password(PASSWORD), role, team)
        return user.id


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(client: Client, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    resp = await client.get("/console/login")
    token = _CSRF.search(await resp.text())
    assert token is not None
    resp = await client.post("/console/login", data={
        "csrf": token.group(1), "username": name, "password": password},
        allow_redirects=False)
    assert resp.status == 303, await resp.text()
    page = await client.get("/console")
    assert page.status == 200
    found = _CSRF.search(await page.text())
    assert found is not None
    return found.group(1)


async def web_session(client: Client) -> tuple[str, str]:
    resp = await client.post("/channels/web/sessions")
    data = await resp.json()
    return str(data["session_id"]), str(data["token"])


async def say(client: Client, token: str, text: str) -> list[dict[str, Any]]:
    resp = await client.post("/channels/web/messages", json={"text": text},
                             headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200, await resp.text()
    messages: list[dict[str, Any]] = (await resp.json())["messages"]
    return messages

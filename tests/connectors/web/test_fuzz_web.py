"""Bad input on the web channel: every class of malformed or hostile body gets a clear 4xx or a
polite reply, never a 5xx; property-based fuzzing of the message endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from casedb.models import Direction, HandoffTicket, MessageLog
from tests.conftest import Client, Database, FakeRasa, GatewayFactory
from tests.gateway.console.helpers import (
    add_staff,
    handing_off_bot,
    open_hours,
    say,
    sign_in,
    web_session,
)

MESSAGES = "/channels/web/messages"
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


async def new_auth(client: Client) -> dict[str, str]:
    body = await (await client.post("/channels/web/sessions")).json()
    return {"Authorization": f"Bearer {body['token']}"}


async def inbound_texts(db: Database) -> list[str | None]:
    async with db.sessions() as session:
        rows = await session.execute(select(MessageLog.text).where(
            MessageLog.direction == Direction.INBOUND).order_by(MessageLog.id))
        return list(rows.scalars())


@pytest.mark.parametrize(("text", "stored"), [
    ("你好\x00世界", "你好世界"),  # NUL: PostgreSQL text cannot hold it
    ("你好\ud800", "你好"),  # a lone surrogate from a JSON escape
    ("\x1b[31m红色\x07\x7f", "[31m红色"),  # terminal escapes and bells
    ("我想申请法律援助😀👍🏽🇨🇳", "我想申请法律援助😀👍🏽🇨🇳"),
    ("'; DROP TABLE message_log; --", "'; DROP TABLE message_log; --"),
    ("<script>alert('x')</script><img src=x onerror=alert(1)>",
     "<script>alert('x')</script><img src=x onerror=alert(1)>"),
    ("第一行\r\n第二行", "第一行\n第二行"),
    ("字" * 2000, "字" * 2000),
])
async def test_hostile_text_is_stored_exactly_as_cleaned_and_answered(
        gateway: GatewayFactory, database: Database, fake_rasa: FakeRasa, text: str,
        stored: str) -> None:
    client = await gateway(database)
    auth = await new_auth(client)
    # json.dumps keeps "\ud800" as an escape, as a browser would send it
    resp = await client.post(MESSAGES, data=json.dumps({"text": text}), headers=auth)
    assert resp.status == 200
    assert (await resp.json())["messages"]
    assert await inbound_texts(database) == [stored]
    assert fake_rasa.received[0]["message"] == stored


@pytest.mark.parametrize(("body", "status", "error"), [
    (b"{not json", 400, "bad_json"),
    (b"\xff\xfe{}", 400, "bad_json"),  # invalid UTF-8
    (b"[" * 50_000 + b"]" * 50_000, 413, None),  # over 64 KiB
    (b"[" * 30_000 + b"]" * 30_000, 400, "bad_json"),  # nesting deeper than the parser goes
    (b'{"text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", 400, "bad_json"),
    (b"[]", 400, "bad_json"),
    (b'"text"', 400, "bad_json"),
    (b"null", 400, "bad_json"),
    (b"{}", 400, "empty_text"),
    (b'{"text": "\\u0000\\u0001 \\t"}', 400, "empty_text"),
    (b'{"text": 12}', 400, "empty_text"),
    (b'{"text": {"$ne": 1}}', 400, "empty_text"),
    (json.dumps({"text": "字" * 2001}).encode(), 413, "text_too_long"),
    (b'{"payload": "affirm"}', 400, "bad_payload"),
    (b'{"payload": ["/affirm"]}', 400, "bad_payload"),
    (b'{"text": "hi", "message_id": ""}', 400, "bad_message_id"),
    (b'{"text": "hi", "message_id": 7}', 400, "bad_message_id"),
    (b"x" * (64 * 1024 + 1), 413, None),
])
async def test_malformed_bodies_get_a_clear_4xx(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa, body: bytes,
        status: int, error: str | None) -> None:
    client = await gateway(sqlite_database)
    resp = await client.post(MESSAGES, data=body, headers=await new_auth(client))
    assert resp.status == status
    if error is not None:
        assert (await resp.json())["error"] == error
    assert fake_rasa.received == [] and await inbound_texts(sqlite_database) == []


async def test_forged_or_missing_tokens_get_401(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database)
    for headers in ({}, {"Authorization": "Bearer x.y.z"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer " + "a" * 5000}):
        assert (await client.post(MESSAGES, json={"text": "你好"}, headers=headers)).status == 401
    resp = await client.get("/channels/web/ws", params={"token": "forged"})
    assert resp.status == 401


@pytest.fixture
async def fuzz_client(gateway: GatewayFactory, sqlite_database: Database) -> Client:
    """One gateway for all examples of a test (hypothesis reuses the test's fixtures), with
    the rate limits off: every example comes from the same address."""
    return await gateway(sqlite_database, rate_limit_ip=0, rate_limit_sender=0)


def _json_bodies() -> st.SearchStrategy[Any]:
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
        | st.text(max_size=40),
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=8), children, max_size=3), max_leaves=10)
    message = st.fixed_dictionaries({}, optional={
        "text": st.text(max_size=300) | values, "payload": st.text(max_size=40) | values,
        "message_id": st.text(max_size=80) | values})
    return message | values


@FUZZ
@given(body=_json_bodies())
async def test_fuzzed_json_bodies_never_get_a_5xx(
        fuzz_client: Client, body: Any) -> None:
    client = fuzz_client
    resp = await client.post(MESSAGES, data=json.dumps(body),
                             headers=await new_auth(client))
    assert resp.status in (200, 400, 413)
    if resp.status == 200:
        assert isinstance((await resp.json())["messages"], list)


@FUZZ
@given(body=st.binary(max_size=3000))
async def test_fuzzed_raw_bodies_never_get_a_5xx(
        fuzz_client: Client, body: bytes) -> None:
    client = fuzz_client
    resp = await client.post(MESSAGES, data=body, headers=await new_auth(client))
    assert resp.status in (200, 400, 413)


XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


async def test_html_a_person_sends_is_escaped_in_the_staff_console(
        gateway: GatewayFactory, sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    handing_off_bot(fake_rasa)
    open_hours(client)
    _, token = await web_session(client)
    await say(client, token, XSS)  # once with the bot
    await say(client, token, "转人工")
    async with sqlite_database.sessions() as session:
        ticket_id = (await session.execute(select(HandoffTicket.id))).scalar_one()
    await add_staff(sqlite_database, "wang")
    csrf = await sign_in(client, "wang")
    await client.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf},
                      allow_redirects=False)
    await say(client, token, XSS)  # once with staff
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page

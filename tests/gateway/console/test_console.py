"""The staff console through the real gateway app: sign-in, CSRF, claim, reply, close."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest
import redis.exceptions
from sqlalchemy import select

from casedb.models import AuditLog, HandoffTicket, StaffRole, TicketNote, TicketStatus
from connectors.wecom import WeComChannel, WeComSettings
from gateway.console.auth import COOKIE
from gateway.keys import state_key
from tests.conftest import Client, Database, FakeRasa, GatewayFactory
from tests.connectors.fakes import FakeWeCom, serve, start_gateway
from tests.connectors.wecom.test_channel import AES_KEY, CORP_ID, TOKEN, post_text
from tests.gateway.console.helpers import (
    add_staff,
    handing_off_bot,
    open_hours,
    say,
    sign_in,
    web_session,
)

TICKET_ROUTES = [("POST", "/console/tickets/{id}/" + verb)
                 for verb in ("claim", "reply", "note", "transfer", "close", "export", "erase")]
RECORD_ROUTES = [("POST", "/console/applications/FY-23456789/status"),
                 ("POST", "/console/bookings/YY-23456789/cancel")]
PROTECTED = [("GET", "/console"), ("GET", "/console/tickets/{id}"),
             ("GET", "/console/dashboard"), ("GET", "/console/api/queue"),
             ("GET", "/console/ws"), ("POST", "/console/logout"), *TICKET_ROUTES,
             *RECORD_ROUTES]


async def _queued_ticket(client: Client, db: Database, fake_rasa: FakeRasa,
                         card: dict[str, Any] | None = None) -> tuple[int, str]:
    handing_off_bot(fake_rasa, card=card)
    open_hours(client)
    _, token = await web_session(client)
    await say(client, token, "转人工")
    async with db.sessions() as session:
        ticket_id = (await session.execute(select(HandoffTicket.id))).scalars().all()[-1]
    return ticket_id, token


async def _audit(db: Database) -> list[tuple[str, str]]:
    async with db.sessions() as session:
        rows = (await session.execute(select(AuditLog.staff_name, AuditLog.action)
                                      .order_by(AuditLog.id))).all()
    return [(name, action) for name, action in rows]


async def test_every_console_route_refuses_anonymous_requests(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    ticket_id, _ = await _queued_ticket(client, sqlite_database, fake_rasa)
    for method, path in PROTECTED:
        resp = await client.request(method, path.format(id=ticket_id), allow_redirects=False,
                                    data={"text": "x", "team": "notary"})
        if method == "GET" and not path.startswith(("/console/api", "/console/ws")):
            assert (resp.status, resp.headers["Location"]) == (303, "/console/login"), path
        else:
            assert resp.status == 401, path
    async with sqlite_database.sessions() as session:
        ticket = await session.get(HandoffTicket, ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.QUEUED


async def test_every_action_refuses_a_missing_or_wrong_csrf_token(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    ticket_id, _ = await _queued_ticket(client, sqlite_database, fake_rasa)
    await add_staff(sqlite_database, "wang")
    await sign_in(client, "wang")
    for method, path in [*TICKET_ROUTES, *RECORD_ROUTES, ("POST", "/console/logout"),
                         ("GET", "/console/api/queue"), ("GET", "/console/ws")]:
        for token in (None, "forged"):
            data: dict[str, Any] = {"text": "x", "team": "notary", "status": "granted"}
            headers = {}
            if token is not None:
                data["csrf"] = token
                headers["X-CSRF-Token"] = token
            url = path.format(id=ticket_id) + (f"?csrf={token}" if token else "")
            resp = await client.request(method, url, data=data, headers=headers,
                                        allow_redirects=False)
            assert resp.status == 403, (path, token)
    # The login form itself needs the anonymous session's token.
    fresh = await gateway(sqlite_database)
    resp = await fresh.post("/console/login", data={"username": "wang", "password": "x" * 12})
    assert resp.status == 403
    async with sqlite_database.sessions() as session:
        ticket = await session.get(HandoffTicket, ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.QUEUED


async def test_claim_reply_note_close_and_rating_on_the_web_channel(
        database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(database)
    ticket_id, token = await _queued_ticket(client, database, fake_rasa)
    await add_staff(database, "wang")
    csrf = await sign_in(client, "wang")
    widget = await client.ws_connect(f"/channels/web/ws?token={token}")
    console = await client.ws_connect(f"/console/ws?csrf={csrf}")

    queue = await (await client.get("/console/api/queue",
                                    headers={"X-CSRF-Token": csrf})).json()
    assert [t["id"] for t in queue["queued"]] == [ticket_id]

    resp = await client.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf},
                             allow_redirects=False)
    assert resp.status == 303
    claimed = await asyncio.wait_for(widget.receive_json(), 5)
    assert "工作人员" in claimed["messages"][0]["text"]

    sent_to_rasa = len(fake_rasa.received)
    await say(client, token, "我想问一下工资的事")
    assert len(fake_rasa.received) == sent_to_rasa  # with staff: never reaches Rasa
    events = [await asyncio.wait_for(console.receive_json(), 5) for _ in range(3)]
    assert {"type": "message", "direction": "in", "text": "我想问一下工资的事"}.items() <= \
        events[-1].items()

    resp = await client.post(f"/console/tickets/{ticket_id}/reply",
                             data={"csrf": csrf, "text": "您好,请讲。"}, allow_redirects=False)
    assert resp.status == 303
    pushed = await asyncio.wait_for(widget.receive_json(), 5)
    assert pushed["messages"][0]["text"] == "您好,请讲。"

    await client.post(f"/console/tickets/{ticket_id}/note",
                      data={"csrf": csrf, "text": "当事人情绪激动"})
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    for seen in ("我想问一下工资的事", "您好,请讲。", "好的,正在为您转接人工服务。",
                 "当事人情绪激动", "labour_remuneration"):
        assert seen in page  # transcript with the bot's part, notes and the case card

    resp = await client.post(f"/console/tickets/{ticket_id}/close", data={"csrf": csrf},
                             allow_redirects=False)
    assert resp.status == 303
    back = await asyncio.wait_for(widget.receive_json(), 5)
    assert "智能助手继续为您服务" in back["messages"][0]["text"]
    rating = await asyncio.wait_for(widget.receive_json(), 5)
    assert rating["messages"][0]["text"] == "请问您对本次人工服务满意吗?"
    assert rating["messages"][0]["buttons"][0] == {
        "title": "非常满意", "payload": '/rate_handoff{"score":5}'}

    resp = await client.post("/channels/web/messages", json={
        "payload": '/rate_handoff{"score":5}'}, headers={"Authorization": f"Bearer {token}"})
    assert "感谢您的评价" in (await resp.json())["messages"][0]["text"]
    await say(client, token, "还有个问题")
    assert fake_rasa.received[-1]["message"] == "还有个问题"  # the bot has it again

    async with database.sessions() as session:
        ticket = await session.get(HandoffTicket, ticket_id)
        notes = list((await session.execute(select(TicketNote.text))).scalars())
    assert ticket is not None and (ticket.status, ticket.rating) == (TicketStatus.CLOSED, 5)
    assert notes == ["当事人情绪激动"]
    assert await _audit(database) == [("wang", "login"), ("wang", "claim"), ("wang", "reply"),
                                      ("wang", "note"), ("wang", "close")]
    await widget.close()
    await console.close()


async def test_the_case_card_reads_as_labelled_fields_not_json(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    card = {"channel": "web", "intents": ["legal_aid_eligibility", "request_human"],
            "slots": {"district": "武进区", "has_proof": True, "household_size": 3,
                      "criminal_factors": ["minor", "disabled"], "notary_shown": "x<b>"},
            "eligibility": {"outcome": "eligible", "inputs": {"identity": "农民工"}},
            "bookings": [{"code": "YY-23456789", "contact_point": "wujin-park",
                          "slot_start": "2026-12-08T09:00:00+08:00", "topic": "contract"}]}
    client = await gateway(sqlite_database)
    ticket_id, _ = await _queued_ticket(client, sqlite_database, fake_rasa, card)
    await add_staff(sqlite_database, "wang")
    await sign_in(client, "wang")
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    section = page[page.index("案件卡片"):page.index("预申请与预约")]
    for seen in ("<dt>所在地区</dt><dd>武进区</dd>", "<dt>有无证明材料</dt><dd>是</dd>",
                 "<dt>家庭人口</dt><dd>3</dd>", "<dd>minor、disabled</dd>",
                 "<dt>结果</dt><dd>eligible</dd>", "<dt>身份</dt><dd>农民工</dd>",
                 "<li><dl class=\"fields\"><dt>预约号</dt><dd>YY-23456789</dd>",
                 "<dd>legal_aid_eligibility、request_human</dd>",
                 "<dt>notary_shown</dt><dd>x&lt;b&gt;</dd>"):  # unnamed: as it is, escaped
        assert seen in section, seen
    assert "{" not in section and "<pre>" not in section


async def test_a_second_claim_is_told_someone_else_has_it(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    ticket_id, _ = await _queued_ticket(client, sqlite_database, fake_rasa)
    await add_staff(sqlite_database, "wang")
    await add_staff(sqlite_database, "li")
    csrf = await sign_in(client, "wang")
    other = await gateway(sqlite_database)
    open_hours(other)
    other_csrf = await sign_in(other, "li")
    first = await client.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf},
                              headers={"Accept": "application/json"})
    second = await other.post(f"/console/tickets/{ticket_id}/claim",
                              data={"csrf": other_csrf}, headers={"Accept": "application/json"})
    assert first.status == 200 and second.status == 409
    assert (await second.json())["error"] == "taken"
    # li is not assigned, so li cannot reply either.
    resp = await other.post(f"/console/tickets/{ticket_id}/reply",
                            data={"csrf": other_csrf, "text": "hi"},
                            headers={"Accept": "application/json"})
    assert resp.status == 409


async def test_staff_see_only_their_team_and_transfer_moves_the_ticket(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    client = await gateway(sqlite_database)
    ticket_id, _ = await _queued_ticket(client, sqlite_database, fake_rasa)
    await add_staff(sqlite_database, "wang")
    await add_staff(sqlite_database, "zhao", team="notary")
    csrf = await sign_in(client, "wang")
    await client.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf})
    resp = await client.post(f"/console/tickets/{ticket_id}/transfer",
                             data={"csrf": csrf, "team": "notary"}, allow_redirects=False)
    assert resp.status == 303
    async with sqlite_database.sessions() as session:
        ticket = await session.get(HandoffTicket, ticket_id)
    assert ticket is not None and (ticket.team, ticket.status, ticket.assigned_to) == (
        "notary", TicketStatus.QUEUED, None)
    # wang (legal aid) no longer sees it; zhao (notary) does.
    assert (await client.get(f"/console/tickets/{ticket_id}")).status == 404
    notary = await gateway(sqlite_database)
    notary_csrf = await sign_in(notary, "zhao")
    queue = await (await notary.get("/console/api/queue",
                                    headers={"X-CSRF-Token": notary_csrf})).json()
    assert [t["id"] for t in queue["queued"]] == [ticket_id]


async def test_five_failed_logins_lock_the_account(
        sqlite_database: Database, gateway: GatewayFactory) -> None:
    client = await gateway(sqlite_database)
    await add_staff(sqlite_database, "wang")
    for attempt in range(6):
        form = await (await client.get("/console/login")).text()
        match = re.search(r'name="csrf" value="([^"]+)"', form)
        assert match is not None
        resp = await client.post("/console/login", data={
            "csrf": match.group(1), "username": "wang", "password": f"wrong-{attempt}-xx"})
        assert resp.status == (401 if attempt < 5 else 429)
    form = await (await client.get("/console/login")).text()
    match = re.search(r'name="csrf" value="([^"]+)"', form)
    assert match is not None
    resp = await client.post("/console/login", data={
        "csrf": match.group(1), "username": "wang", "password": "correct horse battery"},
        allow_redirects=False)
    assert resp.status == 429  # even the right password waits out the lock
    assert "锁定" in await resp.text()


async def test_signing_out_ends_the_session_on_the_server(
        sqlite_database: Database, gateway: GatewayFactory) -> None:
    client = await gateway(sqlite_database)
    await add_staff(sqlite_database, "wang")
    await add_staff(sqlite_database, "li", role=StaffRole.SUPERVISOR)  # sees every event
    other_live = await client.ws_connect(f"/console/ws?csrf={await sign_in(client, 'li')}")
    csrf = await sign_in(client, "wang")  # the same browser: li's cookie is replaced
    cookie = next(c.value for c in client.session.cookie_jar if c.key == COOKIE)
    copied = {"Cookie": f"{COOKIE}={cookie}", "X-CSRF-Token": csrf}
    resp = await client.get("/console/api/queue", headers=copied)
    assert resp.status == 200  # a copy of the cookie works while the session lasts
    live = await client.ws_connect(f"/console/ws?csrf={csrf}")
    resp = await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/console/login")
    # Its live-event socket closes; another person's stays open and hears nothing of it.
    closed = await asyncio.wait_for(live.receive(), 5)
    assert closed.type is aiohttp.WSMsgType.CLOSE and live.close_code == 4401
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(other_live.receive(), 0.3)
    assert not other_live.closed
    # The browser forgets the cookie; a copy kept elsewhere is refused from now on.
    resp = await client.get("/console/api/queue", headers=copied)
    assert resp.status == 401
    resp = await client.get("/console", headers=copied, allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/console/login")
    resp = await client.post("/console/logout", headers=copied, data={"csrf": csrf})
    assert resp.status == 401
    assert await _audit(sqlite_database) == [("li", "login"), ("wang", "login"),
                                             ("wang", "logout")]
    # Signing in again starts a new session, which works.
    fresh_csrf = await sign_in(client, "wang")
    resp = await client.get("/console/api/queue", headers={"X-CSRF-Token": fresh_csrf})
    assert resp.status == 200


async def test_signing_out_while_the_shared_state_is_down_still_signs_out(
        sqlite_database: Database, gateway: GatewayFactory, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    client = await gateway(sqlite_database)
    await add_staff(sqlite_database, "wang")
    csrf = await sign_in(client, "wang")

    async def down(*args: Any) -> bool:
        raise redis.exceptions.ConnectionError("state store down")

    state = client.app[state_key]
    monkeypatch.setattr(state, "seen", down)
    monkeypatch.setattr(state, "first_seen", down)
    resp = await client.get("/console/api/queue", headers={"X-CSRF-Token": csrf})
    assert resp.status == 200  # staff keep working through the outage
    resp = await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/console/login")
    assert not [c for c in client.session.cookie_jar if c.key == COOKIE]
    assert "session not revoked on the server" in caplog.text


async def test_a_session_cookie_is_httponly_and_samesite(
        sqlite_database: Database, gateway: GatewayFactory) -> None:
    client = await gateway(sqlite_database)
    resp = await client.get("/console/login")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie


async def test_a_staff_reply_reaches_the_wecom_send_api(
        aiohttp_client: Any, database: Database, fake_rasa: FakeRasa) -> None:
    async with serve(FakeWeCom(corp_id=CORP_ID, secrets=("app-secret",))) as fake:
        settings = WeComSettings.from_env({
            "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": "1000002",
            "WECOM_SECRET": "app-secret", "WECOM_TOKEN": TOKEN,
            "WECOM_ENCODING_AES_KEY": AES_KEY, "WECOM_API_BASE": fake.url})
        assert settings is not None
        channel = WeComChannel(settings)
        client = await start_gateway(aiohttp_client, database, fake_rasa, channel)
        handing_off_bot(fake_rasa)
        open_hours(client)
        assert await post_text(client, "zhangsan", "转人工", "2001") == 200
        await channel.drain()
        assert "排在第1位" in fake.sent[-1]["text"]["content"]
        async with database.sessions() as session:
            ticket_id = (await session.execute(select(HandoffTicket.id))).scalar_one()
        await add_staff(database, "wang")
        csrf = await sign_in(client, "wang")
        await client.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf})
        resp = await client.post(f"/console/tickets/{ticket_id}/reply",
                                 data={"csrf": csrf, "text": "您好,我是法援中心的小王。"})
        assert resp.status == 200
        assert fake.sent[-1]["touser"] == "zhangsan"
        assert fake.sent[-1]["text"]["content"] == "您好,我是法援中心的小王。"
        sent_to_rasa = len(fake_rasa.received)
        assert await post_text(client, "zhangsan", "好的谢谢", "2002") == 200
        await channel.drain()
        assert len(fake_rasa.received) == sent_to_rasa
        assert await client.app[state_key].get_route("wecom:zhangsan") == \
            f"staff:{ticket_id}"


@pytest.mark.parametrize("role", [StaffRole.SUPERVISOR])
async def test_a_supervisor_sees_every_team(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa,
        role: StaffRole) -> None:
    client = await gateway(sqlite_database)
    ticket_id, _ = await _queued_ticket(client, sqlite_database, fake_rasa)
    await add_staff(sqlite_database, "boss", team="complaints", role=role)
    csrf = await sign_in(client, "boss")
    queue = await (await client.get("/console/api/queue",
                                    headers={"X-CSRF-Token": csrf})).json()
    assert [t["id"] for t in queue["queued"]] == [ticket_id]

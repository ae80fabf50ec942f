"""Two gateway instances, one Redis, one PostgreSQL: the person chats on instance A, staff
work on instance B, and messages flow both ways (routing state and pub/sub in Redis)."""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import select

from casedb.models import HandoffTicket
from gateway.keys import handoff_key, state_key
from tests.conftest import REDIS_URL, Database, FakeRasa, GatewayFactory
from tests.gateway.console.helpers import (
    add_staff,
    handing_off_bot,
    open_hours,
    say,
    sign_in,
    web_session,
)


async def test_user_on_a_and_staff_on_b_in_both_directions(
        postgres_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    shared = {"redis_url": REDIS_URL, "redis_prefix": f"test-{secrets.token_hex(4)}"}
    a = await gateway(postgres_database, **shared)
    b = await gateway(postgres_database, **shared)
    for instance in (a, b):
        open_hours(instance)
    handing_off_bot(fake_rasa)
    await add_staff(postgres_database, "wang")

    session_id, token = await web_session(a)
    widget = await a.ws_connect(f"/channels/web/ws?token={token}")
    csrf = await sign_in(b, "wang")
    console = await b.ws_connect(f"/console/ws?csrf={csrf}")
    await asyncio.sleep(0.2)  # let both Redis subscriptions settle

    await say(a, token, "转人工")  # on A
    queued = await asyncio.wait_for(console.receive_json(), 5)  # seen live on B
    assert (queued["type"], queued["event"]) == ("ticket", "queued")
    async with postgres_database.sessions() as session:
        ticket_id = (await session.execute(select(HandoffTicket.id))).scalar_one()
    assert queued["ticket"] == ticket_id

    resp = await b.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf},
                        allow_redirects=False)
    assert resp.status == 303
    claimed = await asyncio.wait_for(widget.receive_json(), 5)  # B's message reaches A's widget
    assert "工作人员" in claimed["messages"][0]["text"]
    # Both instances read the same routing state.
    assert await a.app[state_key].get_route(f"web:{session_id}") == f"staff:{ticket_id}"

    sent_to_rasa = len(fake_rasa.received)
    await say(a, token, "我在A上发的消息")
    while True:  # B's console shows it live (after the claim events)
        event = await asyncio.wait_for(console.receive_json(), 5)
        if event["type"] == "message" and event["direction"] == "in":
            break
    assert event["text"] == "我在A上发的消息" and event["ticket"] == ticket_id
    assert len(fake_rasa.received) == sent_to_rasa

    await b.post(f"/console/tickets/{ticket_id}/reply",
                 data={"csrf": csrf, "text": "B上的工作人员回复"})
    reply = await asyncio.wait_for(widget.receive_json(), 5)
    assert reply["messages"][0]["text"] == "B上的工作人员回复"

    await b.post(f"/console/tickets/{ticket_id}/close", data={"csrf": csrf})
    back = [await asyncio.wait_for(widget.receive_json(), 5) for _ in range(2)]
    assert back[1]["messages"][0]["text"] == "请问您对本次人工服务满意吗?"
    replies = await say(a, token, "4")  # A takes the rating from B's close
    assert "感谢您的评价" in replies[0]["text"]
    async with postgres_database.sessions() as session:
        ticket = await session.get(HandoffTicket, ticket_id)
    assert ticket is not None and ticket.rating == 4
    assert a.app[handoff_key] is not b.app[handoff_key]
    await widget.close()
    await console.close()

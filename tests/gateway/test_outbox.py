from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from casedb.models import Conversation, Direction, MessageLog
from connectors.base import OutboundMessage
from gateway.keys import outbox_key
from gateway.outbox import UnknownChannel
from tests.conftest import Database, GatewayFactory


async def test_a_delivered_message_is_logged_and_pushed(
        gateway: GatewayFactory, database: Database) -> None:
    client = await gateway(database)
    session = await (await client.post("/channels/web/sessions")).json()
    async with client.ws_connect("/channels/web/ws", params={"token": session["token"]}) as ws:
        await asyncio.sleep(0.05)
        await client.app[outbox_key].deliver(
            "web", session["session_id"], [OutboundMessage(text="明天上午9点的咨询别忘了。")])
        pushed = await asyncio.wait_for(ws.receive_json(), 2)
    assert pushed == {"messages": [{"text": "明天上午9点的咨询别忘了。"}]}
    async with database.sessions() as db:
        row = (await db.execute(select(MessageLog).join(Conversation).where(
            Conversation.external_id == session["session_id"]))).scalar_one()
    assert (row.direction, row.sender_id, row.text) == (
        Direction.OUTBOUND, "system", "明天上午9点的咨询别忘了。")


async def test_an_unmounted_channel_is_refused_before_anything_is_logged(
        gateway: GatewayFactory, sqlite_database: Database) -> None:
    client = await gateway(sqlite_database, reminders_enabled=False)
    with pytest.raises(UnknownChannel):
        await client.app[outbox_key].deliver("wecom", "u1", [OutboundMessage(text="x")])
    async with sqlite_database.sessions() as db:
        assert (await db.execute(select(MessageLog))).first() is None

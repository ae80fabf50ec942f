from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from casedb.engine import create_engine, session_factory
from casedb.models import Conversation, MessageLog
from connectors.base import InboundMessage
from gateway.rasa import RasaClient
from gateway.router import Router
from gateway.state import MemoryState
from tests.conftest import Database, FakeRasa, GatewayFactory


async def test_erase_request_deletes_the_conversation_and_the_tracker(
        gateway: GatewayFactory, database: Database, fake_rasa: FakeRasa) -> None:
    client = await gateway(database)
    session = await (await client.post("/channels/web/sessions")).json()
    other = await (await client.post("/channels/web/sessions")).json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    await client.post("/channels/web/messages", json={"text": "我的电话是13912345678"},
                      headers=auth)
    await client.post("/channels/web/messages", json={"text": "你好"},
                      headers={"Authorization": f"Bearer {other['token']}"})
    fake_rasa.replies = lambda body: [{"text": "已删除您的信息。"},
                                      {"custom": {"privacy": "erase"}}]

    resp = await client.post("/channels/web/messages", json={"payload": "/affirm"}, headers=auth)

    assert await resp.json() == {"messages": [{"text": "已删除您的信息。"}]}
    assert fake_rasa.erased == [f"web:{session['session_id']}"]
    async with database.sessions() as db:
        externals = (await db.execute(select(Conversation.external_id))).scalars().all()
        texts = (await db.execute(select(MessageLog.text))).scalars().all()
        count = (await db.execute(select(func.count()).select_from(MessageLog))).scalar_one()
    assert externals == [other["session_id"]]  # the other person's conversation stays
    assert "我的电话是13912345678" not in texts
    assert count == 2


async def test_a_message_that_could_not_be_stored_is_not_taken_for_a_duplicate(
        sqlite_database: Database, fake_rasa: FakeRasa) -> None:
    state = MemoryState()
    broken = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(http, fake_rasa.url, fake_rasa.token)
        message = InboundMessage(channel="wecom", conversation_id="u1", sender_id="u1",
                                 message_id="m1", text="你好")
        with pytest.raises(OSError):
            await Router(session_factory(broken), state, rasa).handle(message)
        outcome = await Router(sqlite_database.sessions, state, rasa).handle(message)
    await broken.dispose()
    assert not outcome.duplicate and outcome.replies
    assert fake_rasa.received[0]["message"] == "你好"

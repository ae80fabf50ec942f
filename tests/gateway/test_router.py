from __future__ import annotations

from sqlalchemy import func, select

from casedb.models import Conversation, MessageLog
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

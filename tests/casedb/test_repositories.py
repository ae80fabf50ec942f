from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from casedb.models import Direction, Organisation, OrganisationKind
from casedb.repositories import ConversationRepository, DirectoryRepository, MessageLogRepository
from tests.conftest import Database


async def test_conversation_is_created_once(database: Database) -> None:
    async with database.sessions.begin() as session:
        first = await ConversationRepository(session).get_or_create("web", "abc")
    async with database.sessions.begin() as session:
        second = await ConversationRepository(session).get_or_create("web", "abc")
        other = await ConversationRepository(session).get_or_create("wecom", "abc")
    assert first.id == second.id
    assert other.id != first.id
    assert first.sender_key == "web:abc"


async def test_concurrent_first_messages_share_one_conversation(database: Database) -> None:
    async def create() -> int:
        async with database.sessions.begin() as session:
            return (await ConversationRepository(session).get_or_create("web", "race")).id

    ids = await asyncio.gather(*(create() for _ in range(5)))
    assert len(set(ids)) == 1


async def test_message_log_keeps_order_and_refuses_a_repeated_platform_id(
        database: Database) -> None:
    t0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    async with database.sessions.begin() as session:
        conversation = await ConversationRepository(session).get_or_create("web", "s1")
        log = MessageLogRepository(session)
        first = await log.add(conversation, Direction.INBOUND, sender_id="s1", text="你好",
                              platform_message_id="m1", at=t0)
        await log.add(conversation, Direction.OUTBOUND, sender_id="bot", text="您好!",
                      payload={"buttons": [{"title": "是", "payload": "/affirm"}]},
                      at=t0 + timedelta(seconds=1))
    assert first is not None
    async with database.sessions.begin() as session:
        again = await MessageLogRepository(session).add(
            conversation, Direction.INBOUND, sender_id="s1", text="你好",
            platform_message_id="m1")
        assert again is None
    async with database.sessions() as session:
        rows = await MessageLogRepository(session).for_conversation(conversation.id)
    assert [(r.direction, r.text) for r in rows] == [
        (Direction.INBOUND, "你好"), (Direction.OUTBOUND, "您好!")]
    assert rows[0].created_at == t0
    assert rows[1].payload == {"buttons": [{"title": "是", "payload": "/affirm"}]}


async def test_directory_replace_all_and_counts(database: Database) -> None:
    def org(code: str, kind: OrganisationKind) -> Organisation:
        return Organisation(code=code, kind=kind, name=f"{code}机构", district="武进区",
                            address="示例路1号")

    async with database.sessions.begin() as session:
        await DirectoryRepository(session).replace_all(
            [org("A", OrganisationKind.NOTARY_OFFICE), org("B", OrganisationKind.NOTARY_OFFICE),
             org("C", OrganisationKind.CONTACT_POINT)])
    async with database.sessions.begin() as session:
        await DirectoryRepository(session).replace_all([org("D", OrganisationKind.NOTARY_OFFICE)])
    async with database.sessions() as session:
        counts = await DirectoryRepository(session).counts_by_kind()
        offices = await DirectoryRepository(session).by_kind(OrganisationKind.NOTARY_OFFICE)
    assert counts[OrganisationKind.NOTARY_OFFICE] == 1
    assert counts[OrganisationKind.CONTACT_POINT] == 0
    assert [o.code for o in offices] == ["D"]

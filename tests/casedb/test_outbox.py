from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from casedb.engine import create_engine, session_factory
from casedb.models import Conversation, OutboxMessage, OutboxStatus
from casedb.outbox import OutboxRepository
from casedb.repositories import ConversationRepository, PersonalDataRepository
from tests.conftest import Database

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def _conversation(db: Database, external_id: str = "u1") -> Conversation:
    async with db.sessions.begin() as session:
        return await ConversationRepository(session).get_or_create("wecom", external_id)


async def _add(db: Database, conversation: Conversation, text: str = "你好",
               claim_until: datetime = NOW) -> int:
    async with db.sessions.begin() as session:
        row = await OutboxRepository(session).add(conversation, [{"text": text}],
                                                  claim_until=claim_until, now=NOW)
        return row.id


async def test_a_row_is_claimed_once_until_its_lease_runs_out(database: Database) -> None:
    conversation = await _conversation(database)
    row_id = await _add(database, conversation, claim_until=NOW + LEASE)
    async with database.sessions.begin() as session:
        repo = OutboxRepository(session)
        assert await repo.claim_due(now=NOW, lease=LEASE) == []  # the adder holds it
        [row] = await repo.claim_due(now=NOW + LEASE, lease=LEASE)
        assert (row.id, row.channel, row.external_id, row.messages) == (
            row_id, "wecom", "u1", [{"text": "你好"}])
        assert await repo.claim_due(now=NOW + LEASE, lease=LEASE) == []  # claimed again
        assert len(await repo.claim_due(now=NOW + 2 * LEASE, lease=LEASE)) == 1  # it died


async def test_attempts_are_counted_and_a_final_failure_is_visible(database: Database) -> None:
    conversation = await _conversation(database)
    first = await _add(database, conversation, "第一条")
    second = await _add(database, conversation, "第二条")
    async with database.sessions.begin() as session:
        repo = OutboxRepository(session)
        await repo.mark_attempt_failed(first, "HTTP 502", at=NOW, retry_at=NOW + LEASE)
        await repo.mark_attempt_failed(second, "x" * 900, at=NOW, retry_at=None)
        await repo.mark_attempt_failed(second, "ignored: already failed", at=NOW,
                                       retry_at=None)
    async with database.sessions.begin() as session:
        repo = OutboxRepository(session)
        row = await repo.get(first)
        assert row is not None and (row.status, row.attempts, row.last_error) == (
            OutboxStatus.PENDING, 1, "HTTP 502")
        assert row.next_attempt_at == NOW + LEASE
        [failed] = await repo.failed()
        assert (failed.id, failed.attempts, len(failed.last_error or "")) == (second, 1, 500)
        assert failed.failed_at == NOW
        assert await repo.failed(channel="wechat") == []
        assert await repo.pending_count() == 1
        await repo.mark_sent(first, at=NOW)
        assert await repo.pending_count() == 0
        assert await repo.purge_sent(NOW + timedelta(seconds=1)) == 1


async def test_erasure_deletes_the_outbox_rows_of_the_conversation(database: Database) -> None:
    mine, other = await _conversation(database, "u1"), await _conversation(database, "u2")
    await _add(database, mine, "我的电话13912345678")
    await _add(database, other)
    async with database.sessions.begin() as session:
        await PersonalDataRepository(session).erase_conversation("wecom", "u1")
    async with database.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.external_id))).scalars().all()
    assert rows == ["u2"]


async def test_two_processes_never_claim_the_same_row(postgres_database: Database) -> None:
    conversation = await _conversation(postgres_database)
    for i in range(20):
        await _add(postgres_database, conversation, f"消息{i}")
    engines = [create_engine(postgres_database.url, schema=postgres_database.schema)
               for _ in range(4)]

    async def claim(engine_index: int) -> list[int]:
        claimed: list[int] = []
        sessions = session_factory(engines[engine_index])
        while True:
            async with sessions.begin() as session:
                rows = await OutboxRepository(session).claim_due(now=NOW + LEASE, lease=LEASE,
                                                                 limit=3)
            if not rows:
                return claimed
            claimed += [r.id for r in rows]

    results = await asyncio.gather(*(claim(i) for i in range(4)))
    for engine in engines:
        await engine.dispose()
    every = [row_id for result in results for row_id in result]
    assert len(every) == len(set(every)) == 20
    async with postgres_database.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))
                ).scalar_one() == 20

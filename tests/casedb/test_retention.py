from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, select

from casedb import migrate, retention
from casedb.engine import create_engine, session_factory
from casedb.models import (
    ApplicationStatus,
    Booking,
    BookingStatus,
    Conversation,
    Direction,
    LegalAidApplication,
    MessageLog,
    OutboxMessage,
    OutboxStatus,
)
from casedb.outbox import OutboxRepository
from casedb.repositories import ConversationRepository, MessageLogRepository
from gateway import cli
from gateway.scheduler import run_retention_forever
from tests.conftest import Database

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=181)
RECENT = NOW - timedelta(days=179)


async def _conversation_with(db: Database, external_id: str, *at: datetime) -> Conversation:
    async with db.sessions.begin() as session:
        conversation = await ConversationRepository(session).get_or_create("web", external_id)
        log = MessageLogRepository(session)
        for when in at:
            await log.add(conversation, Direction.INBOUND, sender_id=external_id,
                          text=f"{external_id} {when:%Y-%m-%d}", at=when)
        return conversation


async def _texts(db: Database) -> list[str]:
    async with db.sessions() as session:
        rows = await session.execute(select(MessageLog.text).order_by(MessageLog.id))
        return [t or "" for t in rows.scalars()]


def _application(external_id: str, status: ApplicationStatus) -> LegalAidApplication:
    return LegalAidApplication(reference=f"FY-{external_id.upper():0>8}"[:11], channel="web",
                               external_id=external_id, phone="13912345678", inputs={},
                               outcome="likely_eligible", rules_used=[], status=status,
                               created_at=OLD)


def _booking(external_id: str, start: datetime, status: BookingStatus) -> Booking:
    return Booking(code=f"YY-{external_id.upper():0>8}"[:11], contact_point_code="CP1",
                   slot_start=start, seat=1 if status is BookingStatus.BOOKED else None,
                   phone="13912345678", channel="web", external_id=external_id,
                   status=status, created_at=OLD)


async def test_old_messages_go_and_open_cases_are_kept(database: Database) -> None:
    await _conversation_with(database, "plain", OLD, RECENT)
    await _conversation_with(database, "aidopen", OLD)
    await _conversation_with(database, "aiddone", OLD)
    await _conversation_with(database, "bookfut", OLD)
    await _conversation_with(database, "bookpast", OLD)
    await _conversation_with(database, "bookcanc", OLD)
    async with database.sessions.begin() as session:
        session.add_all([
            _application("aidopen", ApplicationStatus.UNDER_REVIEW),
            _application("aiddone", ApplicationStatus.GRANTED),
            _booking("bookfut", NOW + timedelta(days=3), BookingStatus.BOOKED),
            _booking("bookpast", NOW - timedelta(days=3), BookingStatus.BOOKED),
            _booking("bookcanc", NOW + timedelta(days=4), BookingStatus.CANCELLED),
        ])

    async with database.sessions.begin() as session:
        result = await retention.purge(session, days=180, now=NOW)

    assert result.messages == 4 and result.cutoff == NOW - timedelta(days=180)
    assert sorted(await _texts(database)) == sorted([
        f"plain {RECENT:%Y-%m-%d}", f"aidopen {OLD:%Y-%m-%d}", f"bookfut {OLD:%Y-%m-%d}"])
    async with database.sessions() as session:  # conversations stay; only texts go
        assert len((await session.execute(select(Conversation))).scalars().all()) == 6


async def test_finished_outbox_rows_go_but_pending_ones_stay(database: Database) -> None:
    conversation = await _conversation_with(database, "u1")
    async with database.sessions.begin() as session:
        repo = OutboxRepository(session)
        sent = await repo.add(conversation, [{"text": "a"}], claim_until=OLD, now=OLD)
        pending = await repo.add(conversation, [{"text": "b"}], claim_until=OLD, now=OLD)
        failed = await repo.add(conversation, [{"text": "c"}], claim_until=OLD, now=OLD)
        fresh = await repo.add(conversation, [{"text": "d"}], claim_until=NOW, now=RECENT)
        await repo.mark_sent(sent.id, at=OLD)
        await repo.mark_attempt_failed(failed.id, "x", at=OLD, retry_at=None)
        await repo.mark_sent(fresh.id, at=RECENT)
    async with database.sessions.begin() as session:
        result = await retention.purge(session, days=180, now=NOW)
    assert result.outbox == 2
    async with database.sessions() as session:
        left = (await session.execute(select(OutboxMessage.id, OutboxMessage.status)
                                      .order_by(OutboxMessage.id))).all()
    assert [tuple(r) for r in left] == [(pending.id, OutboxStatus.PENDING),
                                        (fresh.id, OutboxStatus.SENT)]


async def test_other_capabilities_can_keep_their_open_cases(
        sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "OPEN_CASES", list(retention.OPEN_CASES))
    await _conversation_with(sqlite_database, "ticket", OLD)
    await _conversation_with(sqlite_database, "other", OLD)

    def open_tickets(now: datetime) -> Select[int]:  # e.g. the handoff's open tickets
        return select(Conversation.id).where(Conversation.external_id == "ticket")

    retention.register_open_cases(open_tickets)
    retention.register_open_cases(open_tickets)  # once is enough
    assert retention.OPEN_CASES.count(open_tickets) == 1
    async with sqlite_database.sessions.begin() as session:
        await retention.purge(session, days=180, now=NOW)
    assert await _texts(sqlite_database) == [f"ticket {OLD:%Y-%m-%d}"]


async def test_a_retention_below_one_day_is_refused(sqlite_database: Database) -> None:
    async with sqlite_database.sessions.begin() as session:
        with pytest.raises(ValueError):
            await retention.purge(session, days=0)


async def test_the_gateway_scheduler_runs_it(sqlite_database: Database) -> None:
    old = datetime.now(UTC) - timedelta(days=31)
    await _conversation_with(sqlite_database, "u1", old, datetime.now(UTC))
    stop = asyncio.Event()
    task = asyncio.create_task(run_retention_forever(sqlite_database.sessions, days=30,
                                                     interval_s=3600, stop=stop))
    for _ in range(50):
        if len(await _texts(sqlite_database)) == 1:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await task
    assert len(await _texts(sqlite_database)) == 1


def test_legalbot_retention_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'case.db'}"

    async def seed() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        db = Database(url, engine, session_factory(engine))
        await _conversation_with(db, "u1", datetime.now(UTC) - timedelta(days=40))
        await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli.main(["retention", "run", "--days", "30"]) == 0
    assert "deleted 1 messages" in capsys.readouterr().out

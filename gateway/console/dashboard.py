"""The supervisors' dashboard: chats, handoffs, wait, satisfaction, legal aid outcomes and
bookings per contact point, per day (Asia/Shanghai), as server-rendered SVG bar charts.

The figures are counted in Python over the rows of the period, so SQLite and PostgreSQL give
the same answer; the period is short (two weeks) and the rows are few per day.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casedb.models import Booking, HandoffTicket, LegalAidApplication, MessageLog
from gateway.handoff import SHANGHAI

DAYS = 14


@dataclass
class Series:
    """One chart: a value per day (or per label)."""

    title: str
    unit: str
    points: list[tuple[str, float]] = field(default_factory=list)

    @property
    def top(self) -> float:
        return max([v for _, v in self.points] + [1.0])


@dataclass
class Dashboard:
    days: list[date]
    charts: list[Series]
    totals: dict[str, float]


def _day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


async def build(session: AsyncSession, today: date, days: int = DAYS) -> Dashboard:
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), SHANGHAI)
    period = [first + timedelta(days=i) for i in range(days)]
    labels = [d.strftime("%m-%d") for d in period]

    chats: defaultdict[date, set[int]] = defaultdict(set)
    rows = await session.execute(select(MessageLog.conversation_id, MessageLog.created_at)
                                 .where(MessageLog.created_at >= since))
    for conversation_id, at in rows:
        chats[_day(at)].add(conversation_id)

    handoffs: Counter[date] = Counter()
    waits: defaultdict[date, list[float]] = defaultdict(list)
    ratings: defaultdict[date, list[int]] = defaultdict(list)
    tickets = await session.execute(select(HandoffTicket).where(
        HandoffTicket.created_at >= since))
    for ticket in tickets.scalars():
        day = _day(ticket.created_at)
        if ticket.kind == "handoff":
            handoffs[day] += 1
        if ticket.claimed_at is not None:
            waits[day].append((ticket.claimed_at - ticket.created_at).total_seconds() / 60)
        if ticket.rating is not None:
            ratings[day].append(ticket.rating)

    outcomes: Counter[str] = Counter()
    applications = await session.execute(select(LegalAidApplication.outcome).where(
        LegalAidApplication.created_at >= since))
    for (outcome,) in applications:
        outcomes[outcome] += 1

    per_point: Counter[str] = Counter()
    bookings = await session.execute(select(Booking.contact_point_code).where(
        Booking.created_at >= since))
    for (code,) in bookings:
        per_point[code] += 1

    def mean(values: list[float] | list[int]) -> float:
        return round(sum(values) / len(values), 1) if values else 0.0

    charts = [
        Series("每日对话数", "个", [(lb, len(chats[d])) for lb, d in zip(labels, period,
                                                                  strict=True)]),
        Series("每日转人工数", "次", [(lb, handoffs[d]) for lb, d in zip(labels, period,
                                                                   strict=True)]),
        Series("平均等待时间", "分钟", [(lb, mean(waits[d])) for lb, d in zip(labels, period,
                                                                     strict=True)]),
        Series("平均满意度(1-5)", "分", [(lb, mean(ratings[d])) for lb, d in zip(
            labels, period, strict=True)]),
        Series("法律援助预申请(按初步结果)", "件", sorted(outcomes.items())),
        Series("预约(按联系点)", "件", sorted(per_point.items())),
    ]
    all_ratings = [r for values in ratings.values() for r in values]
    all_waits = [w for values in waits.values() for w in values]
    totals = {"chats": float(sum(len(v) for v in chats.values())),
              "handoffs": float(sum(handoffs.values())),
              "wait": mean(all_waits), "rating": mean(all_ratings)}
    return Dashboard(period, charts, totals)

"""Notary offices for the finder: the directory's notary offices with their details, read as
`domain.notary.Office` values (the search itself is pure, in `domain.notary.search`).

    offices = await NotaryRepository(session).offices()
    result = domain.notary.search(offices, matter, where, now, calendar)
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.models import NotaryOffice, Organisation
from domain.booking.slots import parse_hours
from domain.notary import Office, Terms


def to_office(row: NotaryOffice) -> Office:
    organisation = row.organisation
    return Office(
        code=organisation.code, name=organisation.name, district=organisation.district,
        address=organisation.address, phone=organisation.phone,
        hours=parse_hours(row.hours) if row.hours else (),
        areas=tuple(row.areas or ()),
        matters={m.matter: Terms(matter=m.matter, documents=tuple(m.documents), fee=m.fee,
                                 days=m.days, in_person=m.in_person,
                                 for_use_abroad=m.for_use_abroad)
                 for m in row.matters},
        appointment_url=row.appointment_url, languages=tuple(row.languages or ()),
        is_sample=organisation.is_sample)


class NotaryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def offices(self, codes: Sequence[str] | None = None) -> list[Office]:
        """Every notary office with finder details (or those with `codes`), by code."""
        stmt = select(NotaryOffice).join(NotaryOffice.organisation).order_by(Organisation.code)
        if codes is not None:
            stmt = stmt.where(Organisation.code.in_(list(codes)))
        rows = (await self.session.execute(stmt)).unique().scalars()
        return [to_office(row) for row in rows]


async def load_offices(sessions: async_sessionmaker[AsyncSession],
                       codes: Sequence[str] | None = None) -> list[Office]:
    """`NotaryRepository.offices` in a transaction of its own (for the actions)."""
    async with sessions.begin() as session:
        return await NotaryRepository(session).offices(codes)

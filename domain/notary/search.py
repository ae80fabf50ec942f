"""Find the notary offices that can take a matter: jurisdiction, ranking, "open now".

Pure: the caller passes the offices (from the case database), the matter, where the person
and the property are, and `now`.

- Jurisdiction (公证法 Art. 25): a matter with the real-estate rule that involves property goes
  to where the property lies; otherwise the person's residence, habitual residence, or the
  place of the act or fact (the first of those named). `decide` says which, and why.
- An office can take a matter in a district when it handles the matter and the district is
  its own or one of its service areas (执业区域, from the directory).
- Ranking: offices located in the district first, then those open now, then by code; at
  most `LIMIT` (3) are shown. Nothing found: the city-wide office is offered instead.
- "Open now" in Asia/Shanghai: closed on statutory holidays; a make-up working day keeps
  that weekday's hours if the office opens then, else Monday's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.booking.calendar import DayKind, WorkCalendar
from domain.booking.slots import Period
from domain.booking.when import SHANGHAI
from domain.notary.catalog import MatterRule, Terms
from domain.notary.places import Places, Role

LIMIT = 3
CITY_WIDE = "市级"


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    district: str
    address: str
    phone: str | None
    hours: tuple[Period, ...]
    areas: tuple[str, ...] = ()  # districts it serves besides its own
    matters: Mapping[str, Terms] = field(default_factory=dict)
    appointment_url: str | None = None
    languages: tuple[str, ...] = ()  # languages of translations for documents used abroad
    is_sample: bool = False

    def serves(self, district: str) -> bool:
        return district == self.district or district in self.areas

    def handles(self, matter: str) -> bool:
        return matter in self.matters


class Basis(enum.StrEnum):
    """Why offices in this district (the `explain` sentences of texts.yaml)."""

    PROPERTY = "property"  # Art. 25: where the real estate lies
    RESIDENCE = "residence"
    ACT = "act"
    NAMED = "named"  # a district named without saying how it connects
    PROPERTY_EXCEPTION = "property_exception"  # 委托、声明、赠与、遗嘱 about real estate


@dataclass(frozen=True)
class Jurisdiction:
    district: str
    basis: Basis


class Missing(enum.StrEnum):
    """What must be asked before searching."""

    PROPERTY = "property"  # where the property lies
    PLACE = "place"  # where the person lives (or acted)


def decide(matter: MatterRule | None, places: Places, *, involves_property: bool,
           answer_to: Missing | None = None) -> Jurisdiction | Missing:
    """Where the matter goes under Art. 25, or what to ask. `answer_to` is the question the
    message answers: a bare district then takes that role."""
    property_district = places.real_estate
    if property_district is None and answer_to is Missing.PROPERTY:
        property_district = places.named
    real_estate = matter is not None and matter.property_rule and (
        involves_property or property_district is not None)
    if real_estate:
        if property_district is not None:
            return Jurisdiction(property_district, Basis.PROPERTY)
        return Missing.PROPERTY
    own = places.own
    if own is None:
        if property_district is not None and matter is None:
            return Jurisdiction(property_district, Basis.PROPERTY)  # the matter comes later
        return Missing.PLACE
    district, role = own
    if involves_property or property_district is not None:
        return Jurisdiction(district, Basis.PROPERTY_EXCEPTION)
    if role is Role.NAMED and answer_to is Missing.PLACE:
        role = Role.RESIDENCE
    return Jurisdiction(district, {Role.RESIDENCE: Basis.RESIDENCE, Role.ACT: Basis.ACT}
                        .get(role, Basis.NAMED))


class OpenState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class OpenNow:
    state: OpenState
    holiday: str | None = None  # the calendar's English name, on a holiday


def periods_on(hours: Iterable[Period], day: datetime, calendar: WorkCalendar) -> list[Period]:
    info = calendar.info(day.date())
    if info.kind is DayKind.HOLIDAY:
        return []
    own = [p for p in hours if p.weekday == day.weekday()]
    if own or info.kind is not DayKind.MAKEUP_WORKDAY:
        return own
    return [p for p in hours if p.weekday == 0]


def open_now(hours: Sequence[Period], now: datetime, calendar: WorkCalendar) -> OpenNow:
    local = now.astimezone(SHANGHAI)
    info = calendar.info(local.date())
    if info.kind is DayKind.HOLIDAY:
        return OpenNow(OpenState.HOLIDAY, info.holiday)
    moment = local.time()
    if any(p.opens <= moment < p.closes for p in periods_on(hours, local, calendar)):
        return OpenNow(OpenState.OPEN)
    return OpenNow(OpenState.CLOSED)


@dataclass(frozen=True)
class Found:
    office: Office
    now: OpenNow


@dataclass(frozen=True)
class Result:
    matter: MatterRule
    jurisdiction: Jurisdiction
    offices: tuple[Found, ...]  # at most LIMIT, ranked; empty: nothing matches
    fallback: Found | None = None  # the city-wide office offered when nothing matches

    def terms(self) -> Terms | None:
        """The matter's terms at the first office shown (or the fallback)."""
        shown = list(self.offices)
        if self.fallback is not None:
            shown.append(self.fallback)
        for found in shown:
            terms: Terms | None = found.office.matters.get(self.matter.code)
            if terms is not None:
                return terms
        return None


def search(offices: Iterable[Office], matter: MatterRule, where: Jurisdiction,
           now: datetime, calendar: WorkCalendar, limit: int = LIMIT) -> Result:
    pool = list(offices)
    matching = [Found(o, open_now(o.hours, now, calendar)) for o in pool
                if o.handles(matter.code) and o.serves(where.district)]
    matching.sort(key=lambda f: (f.office.district != where.district,
                                 f.now.state is not OpenState.OPEN, f.office.code))
    if matching:
        return Result(matter, where, tuple(matching[:limit]))
    city = sorted((o for o in pool if o.district == CITY_WIDE),
                  key=lambda o: (not o.handles(matter.code), o.code))
    fallback = Found(city[0], open_now(city[0].hours, now, calendar)) if city else None
    return Result(matter, where, (), fallback)

"""What the notary finder says (`data/texts.yaml`): result cards, the Art. 25 explanation, and
the answers to follow-up questions about the matter and offices just shown."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import yaml

from domain.booking.slots import describe_hours
from domain.booking.texts import Texts
from domain.notary.abroad import Destination, Status
from domain.notary.catalog import MatterRule, Terms
from domain.notary.search import Found, OpenState, Result

DATA_DIR = Path(__file__).parent / "data"
HOLIDAY_NAMES = Path(__file__).parents[1] / "booking" / "data" / "texts.yaml"


@functools.cache
def texts() -> Texts:
    data = yaml.safe_load((DATA_DIR / "texts.yaml").read_text(encoding="utf-8"))
    holidays = yaml.safe_load(HOLIDAY_NAMES.read_text(encoding="utf-8"))["holidays"]
    data.setdefault("holidays", holidays)
    return Texts(data)


def hours_text(found: Found) -> str:
    if not found.office.hours:
        return texts().get("hours_closed")
    return describe_hours(found.office.hours)


def now_text(found: Found) -> str:
    if found.now.state is OpenState.HOLIDAY:
        return texts().get("now.holiday", holiday=texts().holiday(found.now.holiday))
    return texts().get(f"now.{found.now.state.value}")


def explanation(result: Result) -> str:
    return texts().get(f"explain.{result.jurisdiction.basis.value}",
                       district=result.jurisdiction.district, matter=result.matter.name)


def card(index: int, found: Found) -> str:
    office = found.office
    lines = [texts().get("card", index=index, name=office.name, address=office.address,
                         phone=office.phone or texts().get("no_phone"),
                         hours=hours_text(found), now=now_text(found))]
    if office.appointment_url:
        lines.append(texts().get("card_appointment", url=office.appointment_url))
    if office.languages:
        lines.append(texts().get("card_languages", languages="、".join(office.languages)))
    return "\n".join(lines)


def card_data(found: Found) -> dict[str, object]:
    """The card as data, for channels that draw their own (the web widget's `custom`)."""
    office = found.office
    return {"code": office.code, "name": office.name, "district": office.district,
            "address": office.address, "phone": office.phone, "hours": hours_text(found),
            "open_now": found.now.state is OpenState.OPEN, "now": now_text(found),
            "appointment_url": office.appointment_url, "languages": list(office.languages),
            "sample": office.is_sample}


def documents_answer(matter: MatterRule, terms: Terms | None, office: str,
                     phone: str | None) -> str:
    if terms is None:
        return texts().get("followup.no_documents", office=office, matter=matter.name,
                           phone=phone or texts().get("no_phone"))
    listed = "\n".join(f"{i}. {d}" for i, d in enumerate(terms.documents, 1))
    return "\n".join([texts().get("followup.documents", matter=matter.name, documents=listed),
                      texts().get("followup.documents_source", office=office)])


def fee_answer(matter: MatterRule, terms: Terms | None, *, legal_aid_eligible: bool) -> str:
    lines = []
    if terms is not None:
        lines.append(texts().get("followup.fee", matter=matter.name, fee=terms.fee))
    lines.append(texts().get("followup.fee_source"))
    if legal_aid_eligible:
        lines.append(texts().get("followup.legal_aid_note"))
    return "\n".join(lines)


def time_answer(matter: MatterRule, terms: Terms | None, *, abroad: bool) -> str:
    lines = []
    if terms is not None:
        lines.append(texts().get("followup.time", matter=matter.name, days=terms.days))
    lines.append(texts().get("followup.time_law"))
    if abroad:
        lines.append(texts().get("followup.time_abroad"))
    return "\n".join(lines)


def hours_answer(shown: Sequence[Found]) -> str:
    lines = []
    for found in shown:
        weekend = sorted({p.weekday for p in found.office.hours if p.weekday >= 5})
        note = texts().get("followup.weekend_open", days="、".join(
            texts().weekday(d) for d in weekend)) if weekend else \
            texts().get("followup.weekend_closed")
        lines.append(texts().get("followup.hours", name=found.office.name,
                                 hours=hours_text(found), weekend=note))
    lines.append(texts().get("followup.holiday_note"))
    return "\n".join(lines)


def agent_answer(matter: MatterRule, terms: Terms | None) -> str:
    if matter.personal:
        return texts().get("followup.agent_law", matter=matter.name)
    if terms is not None and terms.in_person:
        return texts().get("followup.agent_office", matter=matter.name)
    return texts().get("followup.agent_yes", matter=matter.name)


def abroad_answer(destination: Destination | None) -> str:
    if destination is None or destination.status is Status.UNKNOWN:
        line = texts().get("abroad.unknown")
    else:
        line = texts().get(f"abroad.{destination.status.value}", country=destination.country)
    return line + texts().get("abroad.unverified")

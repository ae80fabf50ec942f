"""Directory import: validate a whole YAML or CSV file, then replace the directory at once.

Every row is checked before anything is written; a file with one bad row loads nothing and the
error names the row's line in the file.

Contact points (kind `contact_point`) that take bookings also carry `park` (park or project,
optional), `topics` (catalog codes such as `labour` or their Chinese names such as 劳动用工,
separated by `;`, `、` or `,`, or a YAML list), `hours` (weekly opening hours, e.g.
`mon-fri 09:00-12:00,13:30-17:00; sat 09:00-11:30` or `周一至周五 09:00-12:00`),
`slot_minutes` and `capacity` (people per slot). Either all four of topics, hours, slot_minutes
and capacity are given or none (a contact point that is listed but not bookable).

Notary offices (kind `notary_office`) found by the notary finder carry `notary_hours` (as
`hours` above), `notary_matters` (matter codes of domain/notary/data/matters.yaml) and
optionally `notary_areas` (districts served besides its own), `appointment_url` and
`languages` (translations for documents used abroad). The matters' terms come from the YAML
file's top-level `notary_matters` catalog (code, documents, fee, days, in_person,
for_use_abroad; see `domain.notary.check_terms`), so a CSV file lists notary offices without
finder details. Each office's terms are stored with it and replaced with it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from casedb.models import (
    ContactPoint,
    ContactPointHours,
    ContactPointTopic,
    NotaryOffice,
    NotaryOfficeMatter,
    Organisation,
    OrganisationKind,
)
from domain.booking.slots import (
    MAX_CAPACITY,
    MAX_SLOT_MINUTES,
    HoursError,
    Period,
    format_hours,
    parse_hours,
)
from domain.booking.texts import texts
from domain.notary.catalog import Terms, check_terms

DATA = Path(__file__).parent / "data"
SAMPLE_DIRECTORY = Path(__file__).parent / "sample" / "directory.yaml"
REQUIRED = ("code", "kind", "name", "district", "address")
BOOKING_REQUIRED = ("topics", "hours", "slot_minutes", "capacity")
BOOKING_FIELDS = ("park", *BOOKING_REQUIRED)
NOTARY_REQUIRED = ("notary_hours", "notary_matters")
NOTARY_FIELDS = (*NOTARY_REQUIRED, "notary_areas", "appointment_url", "languages")
OPTIONAL = ("phone", *BOOKING_FIELDS, *NOTARY_FIELDS)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class DirectoryFileError(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@cache
def topics() -> dict[str, str]:
    """Every accepted spelling of a consultation topic → its catalog code."""
    names = {code: code for code in texts().mapping("topics")}
    names.update({chinese: code for code, chinese in texts().mapping("topics").items()})
    return names


def contact_point_details(organisation: Organisation) -> ContactPoint | None:
    """The booking details attached to a parsed organisation (see `ContactPoint`)."""
    details = getattr(organisation, "contact_point", None)
    return details if isinstance(details, ContactPoint) else None


@cache
def districts() -> dict[str, str]:
    """Every accepted spelling → canonical district name (the city-wide level included)."""
    data = yaml.safe_load((DATA / "districts.yaml").read_text(encoding="utf-8"))
    names: dict[str, str] = {data["city_wide"]: data["city_wide"], data["city"]: data["city_wide"]}
    for canonical, aliases in data["districts"].items():
        names[canonical] = canonical
        for alias in aliases:
            names[alias] = canonical
    return names


def parse_directory(path: Path) -> tuple[list[Organisation], list[RowError]]:
    """Parse and validate a directory file; returns the rows and every error found."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any]
    if path.suffix.lower() == ".csv":
        rows, meta = _csv_rows(text), {}
    elif path.suffix.lower() in (".yaml", ".yml"):
        rows, meta = _yaml_rows(text)
    else:
        raise DirectoryFileError([RowError(0, f"unsupported file type {path.suffix!r}")])
    catalog, catalog_errors = _notary_catalog(text) if meta.get("notary_matters") else ({}, [])
    is_sample = bool(meta.get("sample", False))
    source = str(meta.get("source") or path.name)
    organisations: list[Organisation] = []
    errors: list[RowError] = list(catalog_errors)
    seen: dict[str, int] = {}
    for line, row in rows:
        problems = _validate(row)
        code = str(row.get("code") or "").strip()
        if code and code in seen:
            problems.append(f"duplicate code {code!r} (first on line {seen[code]})")
        seen.setdefault(code, line)
        details, booking_problems = _booking_details(row)
        problems.extend(booking_problems)
        notary, notary_problems = _notary_details(row, catalog)
        problems.extend(notary_problems)
        if problems:
            errors.extend(RowError(line, p) for p in problems)
            continue
        organisation = Organisation(
            code=code,
            kind=OrganisationKind(row["kind"]),
            name=str(row["name"]).strip(),
            district=districts()[str(row["district"]).strip()],
            address=str(row["address"]).strip(),
            phone=(str(row["phone"]).strip() or None) if row.get("phone") else None,
            is_sample=is_sample,
            source=source,
        )
        if details is not None:
            details.organisation = organisation
        if notary is not None:
            notary.organisation = organisation
        organisations.append(organisation)
    if not rows:
        errors.append(RowError(0, "no organisations in file"))
    return organisations, errors


def _validate(row: dict[str, Any]) -> list[str]:
    problems = [f"missing {field}" for field in REQUIRED if not str(row.get(field) or "").strip()]
    unknown = set(row) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(sorted(unknown))}")
    kind = row.get("kind")
    if kind and kind not in {k.value for k in OrganisationKind}:
        problems.append(f"unknown kind {kind!r}")
    district = str(row.get("district") or "").strip()
    if district and district not in districts():
        problems.append(f"unknown district {district!r}")
    return problems


def _present(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    return value is not None and str(value).strip() != ""


def _booking_details(row: dict[str, Any]) -> tuple[ContactPoint | None, list[str]]:
    """The contact point details of a row (None if it has none) and their problems."""
    given = [f for f in BOOKING_FIELDS if _present(row.get(f))]
    if not given:
        return None, []
    if row.get("kind") != OrganisationKind.CONTACT_POINT.value:
        return None, [f"{', '.join(given)}: only for kind contact_point"]
    problems = [f"missing {f} (a bookable contact point needs topics, hours, slot_minutes "
                f"and capacity)" for f in BOOKING_REQUIRED if f not in given]
    if problems:
        return None, problems
    raw_topics = row["topics"]
    items = raw_topics if isinstance(raw_topics, list) else \
        re.split(r"[;；、,，]", str(raw_topics))
    codes: list[str] = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        if item not in topics():
            problems.append(f"unknown topic {item!r}")
        elif topics()[item] not in codes:
            codes.append(topics()[item])
    periods: tuple[Period, ...] = ()
    try:
        periods = parse_hours(str(row["hours"]))
    except HoursError as exc:
        problems.append(f"hours: {exc}")
    slot_minutes = _bounded_int(row["slot_minutes"], 5, MAX_SLOT_MINUTES, "slot_minutes",
                                problems)
    capacity = _bounded_int(row["capacity"], 1, MAX_CAPACITY, "capacity", problems)
    if problems or slot_minutes is None or capacity is None:
        return None, problems
    park = str(row.get("park") or "").strip() or None
    return ContactPoint(
        park=park, slot_minutes=slot_minutes, capacity=capacity,
        topics=[ContactPointTopic(topic=code) for code in codes],
        hours=[ContactPointHours(weekday=p.weekday, opens=p.opens, closes=p.closes)
               for p in periods],
    ), []


def notary_office_details(organisation: Organisation) -> NotaryOffice | None:
    """The notary finder details attached to a parsed organisation (see `NotaryOffice`)."""
    details = getattr(organisation, "notary_office", None)
    return details if isinstance(details, NotaryOffice) else None


def _items(value: Any) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[;；、,，]", str(value))
    return [str(i).strip() for i in items if str(i).strip()]


def _notary_catalog(text: str) -> tuple[dict[str, Terms], list[RowError]]:
    """The YAML file's `notary_matters` catalog (its entries' problems by line)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    data = yaml.safe_load(text)
    assert isinstance(root, yaml.MappingNode)
    node = next(v for k, v in root.value if k.value == "notary_matters")
    items = data["notary_matters"]
    if not isinstance(items, list) or not isinstance(node, yaml.SequenceNode):
        return {}, [RowError(node.start_mark.line + 1, "notary_matters: expected a list")]
    catalog: dict[str, Terms] = {}
    errors: list[RowError] = []
    for item_node, item in zip(node.value, items, strict=True):
        line = item_node.start_mark.line + 1
        terms, problems = check_terms(item if isinstance(item, dict) else {})
        if terms is not None and terms.matter in catalog:
            problems = [f"duplicate notary matter {terms.matter!r}"]
        errors.extend(RowError(line, f"notary_matters: {p}") for p in problems)
        if terms is not None and not problems:
            catalog[terms.matter] = terms
    return catalog, errors


def _notary_details(row: dict[str, Any],
                    catalog: dict[str, Terms]) -> tuple[NotaryOffice | None, list[str]]:
    """The notary finder details of a row (None if it has none) and their problems."""
    given = [f for f in NOTARY_FIELDS if _present(row.get(f))]
    if not given:
        return None, []
    if row.get("kind") != OrganisationKind.NOTARY_OFFICE.value:
        return None, [f"{', '.join(given)}: only for kind notary_office"]
    problems = [f"missing {f} (a notary office in the finder needs notary_hours and "
                f"notary_matters)" for f in NOTARY_REQUIRED if f not in given]
    if problems:
        return None, problems
    hours = ""
    try:
        hours = format_hours(parse_hours(str(row["notary_hours"])))
    except HoursError as exc:
        problems.append(f"notary_hours: {exc}")
    matters: list[NotaryOfficeMatter] = []
    for code in _items(row["notary_matters"]):
        terms = catalog.get(code)
        if terms is None:
            problems.append(f"notary matter {code!r} is not in the file's notary_matters")
        elif code not in {m.matter for m in matters}:
            matters.append(NotaryOfficeMatter(
                matter=code, documents=list(terms.documents), fee=terms.fee, days=terms.days,
                in_person=terms.in_person, for_use_abroad=terms.for_use_abroad))
    areas: list[str] = []
    for area in _items(row.get("notary_areas") or []):
        if area not in districts():
            problems.append(f"notary_areas: unknown district {area!r}")
        elif districts()[area] not in areas:
            areas.append(districts()[area])
    url = str(row.get("appointment_url") or "").strip() or None
    if url is not None and not url.startswith(("https://", "http://")):
        problems.append(f"appointment_url {url!r} is not a web address")
    if problems:
        return None, problems
    return NotaryOffice(hours=hours, areas=areas, appointment_url=url,
                        languages=_items(row.get("languages") or []), matters=matters), []


def _bounded_int(value: Any, low: int, high: int, name: str, problems: list[str]) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        problems.append(f"{name} {value!r} is not a whole number")
        return None
    if not low <= number <= high:
        problems.append(f"{name} {number} is not between {low} and {high}")
        return None
    return number


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    for row in reader:
        clean = {k.strip(): v for k, v in row.items() if k is not None}
        rows.append((reader.line_num, clean))
    return rows


def _yaml_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, Any]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise DirectoryFileError([RowError(line, f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("organisations"), list):
        raise DirectoryFileError([RowError(1, "expected a mapping with an 'organisations' list")])
    assert isinstance(root, yaml.MappingNode)
    items_node = next(v for k, v in root.value if k.value == "organisations")
    rows: list[tuple[int, dict[str, Any]]] = []
    for node, item in zip(items_node.value, data["organisations"], strict=True):
        line = node.start_mark.line + 1
        rows.append((line, item if isinstance(item, dict) else {"_": item}))
    meta = {k: v for k, v in data.items() if k != "organisations"}
    return rows, meta

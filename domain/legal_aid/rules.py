"""The rule book of the legal aid pre-screen, loaded from the bureau-maintained data files.

Files in `data/`:

- `rules_*.yaml`: one file per source (national law, provincial regulation, local policy), each
  with a `source`, a `version` and any of the sections `matters`, `mandatory_defence`,
  `exemptions`, `special_groups`, `extensions`, `hardship_standards`;
- `minimum_wage.yaml`: the hardship threshold per tier and the tier of each district;
- `texts.yaml`: the Chinese sentences the engine fills in.

Every rule has `effective_from` (and optional `effective_to`, exclusive); loading fails with
`RuleDataError` naming the file and the entry when anything is missing or unknown.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml

from domain.legal_aid.codes import (
    DISTRICTS,
    CriminalFactor,
    ExtensionEffect,
    ExtensionTrigger,
    Identity,
    MatterType,
)

DATA_DIR = Path(__file__).parent / "data"
_E = TypeVar("_E", MatterType, Identity, ExtensionTrigger)
_C = TypeVar("_C", MatterType, Identity, CriminalFactor, ExtensionEffect, ExtensionTrigger)
RULE_BASES = frozenset({"art24", "art29", "art31", "art32", "art33", "provincial"})
HARDSHIP_FAIL_OUTCOMES = frozenset({"not_eligible", "staff_review"})
SOURCE_KINDS = ("national_law", "provincial_regulation", "local_policy")


_SPACE_NEAR_CJK = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")


def _clean(value: str) -> str:
    """Strip, and drop the spaces YAML folding leaves between Chinese characters."""
    return _SPACE_NEAR_CJK.sub("", value.strip())


class RuleDataError(ValueError):
    """A data file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, kw_only=True)
class Source:
    id: str
    title: str
    kind: str  # national_law | provincial_regulation | local_policy
    effective_from: date
    verified: bool
    reference: str
    unverified_note: str | None
    version: str


@dataclass(frozen=True, kw_only=True)
class RuleBase:
    """What every rule has: an id, its source, a citation and when it is in force."""

    id: str
    source: Source
    citation: str
    effective_from: date
    effective_to: date | None  # exclusive
    verified: bool

    def in_effect(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)

    @property
    def ref(self) -> str:
        """`id@version`, as listed in a result's `rules_used`."""
        return f"{self.id}@{self.source.version}"


@dataclass(frozen=True, kw_only=True)
class MatterRule(RuleBase):
    matter: MatterType
    basis: str  # one of RULE_BASES
    hardship_test: bool
    on_hardship_fail: str  # one of HARDSHIP_FAIL_OUTCOMES
    summary: str
    caveat: str | None
    documents: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MandatoryDefenceRule(RuleBase):
    factor: CriminalFactor
    implied_by: frozenset[Identity]
    label: str
    note: str | None


@dataclass(frozen=True, kw_only=True)
class ExemptionRule(RuleBase):
    identities: frozenset[Identity]
    matters: frozenset[MatterType] | None  # None: any in-scope matter
    label: str
    proof: tuple[tuple[Identity, tuple[str, ...]], ...]

    def covers(self, identities: Iterable[Identity], matter: MatterType) -> bool:
        return bool(self.identities.intersection(identities)) and (
            self.matters is None or matter in self.matters)

    def proof_for(self, identities: Iterable[Identity]) -> tuple[str, ...]:
        wanted = set(identities)
        out: list[str] = []
        for identity, items in self.proof:
            if identity in wanted:
                out.extend(item for item in items if item not in out)
        return tuple(out)


@dataclass(frozen=True, kw_only=True)
class SpecialGroupRule(RuleBase):
    identities: frozenset[Identity]
    label: str
    known_count: int
    stated_count: int
    unverified_note: str | None


@dataclass(frozen=True, kw_only=True)
class LocalExtension(RuleBase):
    identities: frozenset[Identity]
    triggers: frozenset[ExtensionTrigger]
    matters: frozenset[MatterType] | None
    effect: ExtensionEffect
    reason: str
    next_step: str | None

    def covers(self, identities: Iterable[Identity], matter: MatterType,
               trigger: ExtensionTrigger) -> bool:
        return (trigger in self.triggers and bool(self.identities.intersection(identities))
                and (self.matters is None or matter in self.matters))


@dataclass(frozen=True, kw_only=True)
class HardshipStandard(RuleBase):
    pass


@dataclass(frozen=True)
class WageFigure:
    tier: str
    effective_from: date
    monthly: Decimal | None  # None: figure not known (fall back to the previous one)
    verified: bool
    source: str


@dataclass(frozen=True)
class TierAssignment:
    district: str
    tier: str
    effective_from: date
    verified: bool
    source: str


@dataclass(frozen=True)
class MinimumWageTable:
    version: str
    source_note: str
    tiers: Mapping[str, tuple[WageFigure, ...]]  # each sorted by effective_from
    districts: Mapping[str, tuple[TierAssignment, ...]]  # each sorted by effective_from


@dataclass(frozen=True)
class Texts:
    version: str
    data: Mapping[str, Any]

    def get(self, key: str, **values: object) -> str:
        """The sentence at a dotted key, with {placeholders} filled in."""
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"texts.yaml has no {key!r}")
            node = node[part]
        if not isinstance(node, str):
            raise KeyError(f"texts.yaml {key!r} is not a sentence")
        return node.format(**values) if values else node

    def has(self, key: str) -> bool:
        try:
            self.get(key)
        except KeyError:
            return False
        return True


@dataclass(frozen=True)
class RuleBook:
    sources: tuple[Source, ...]
    matters: tuple[MatterRule, ...]
    mandatory_defence: tuple[MandatoryDefenceRule, ...]
    exemptions: tuple[ExemptionRule, ...]
    special_groups: tuple[SpecialGroupRule, ...]
    extensions: tuple[LocalExtension, ...]
    hardship_standards: tuple[HardshipStandard, ...]
    minimum_wage: MinimumWageTable
    texts: Texts
    versions: Mapping[str, str] = field(default_factory=dict)  # file name -> version


# --- loading -------------------------------------------------------------------------------

# Sentences the engine needs; checked at load time so a bad edit fails early.
REQUIRED_TEXTS = (
    "disclaimer", "decision_time", "decision_time_mandatory", "urgent_path",
    "reasons.missing_info", "reasons.scope_no_hardship", "reasons.scope_hardship",
    "reasons.special_group", "reasons.not_yet_in_effect", "reasons.out_of_scope",
    "reasons.exempt_with_proof", "reasons.exempt_without_proof", "reasons.exempt_scope_note",
    "reasons.hardship_standard", "reasons.hardship_unverified", "reasons.hardship_fallback",
    "reasons.hardship_same_everywhere", "reasons.hardship_unknown", "reasons.hardship_pass",
    "reasons.hardship_fail", "reasons.hardship_fail_art24", "reasons.mandatory",
    "reasons.mandatory_handoff", "reasons.criminal_factors_none",
    "reasons.extension_local_only", "documents.case_materials",
    "where.litigation", "where.non_litigation", "where.district", "where.detained",
    "where.mandatory", "where.city_wide_place",
    "documents.identity", "documents.agent", "documents.hardship",
    "documents.exempt_proof_optional", "documents.mandatory",
    "next_steps.apply", "next_steps.staff_review", "next_steps.handoff",
    "next_steps.hotline_12348", "next_steps.mediation", "next_steps.booking",
    "next_steps.duty_lawyer", "next_steps.still_apply", "next_steps.human",
)


class _Entry:
    """Typed access to one mapping of a data file, with errors that say where."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise RuleDataError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.where = where

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise RuleDataError(f"{self.where}: missing {key!r}")
            return None
        return self.data[key]

    def text(self, key: str) -> str:
        value = self._get(key, True)
        if not isinstance(value, str) or not value.strip():
            raise RuleDataError(f"{self.where}: {key!r} must be a non-empty string")
        return _clean(value)

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, str):
            raise RuleDataError(f"{self.where}: {key!r} must be a string")
        return _clean(value)

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self._get(key, default is None)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            raise RuleDataError(f"{self.where}: {key!r} must be true or false")
        return value

    def integer(self, key: str) -> int:
        value = self._get(key, True)
        if not isinstance(value, int) or isinstance(value, bool):
            raise RuleDataError(f"{self.where}: {key!r} must be an integer")
        return value

    def day(self, key: str, required: bool = True) -> date | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, date):
            raise RuleDataError(f"{self.where}: {key!r} must be a date (YYYY-MM-DD)")
        return value

    def req_day(self, key: str) -> date:
        value = self.day(key)
        assert value is not None
        return value

    def texts(self, key: str, required: bool = True) -> tuple[str, ...] | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise RuleDataError(f"{self.where}: {key!r} must be a list of strings")
        return tuple(_clean(v) for v in value)

    def codes(self, key: str, enum: type[_E], required: bool = True) -> frozenset[_E] | None:
        values = self.texts(key, required)
        if values is None:
            return None
        return frozenset(self.code(enum, v, key) for v in values)

    def code(self, enum: type[_C], value: str, key: str) -> _C:
        try:
            return enum(value)
        except ValueError:
            raise RuleDataError(f"{self.where}: {key!r}: unknown code {value!r}") from None


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{path.name}: not valid YAML: {exc}") from exc


def _meta(entry: _Entry, source: Source) -> dict[str, Any]:
    effective_from = entry.req_day("effective_from")
    effective_to = entry.day("effective_to", required=False)
    if effective_to is not None and effective_to <= effective_from:
        raise RuleDataError(f"{entry.where}: effective_to must be after effective_from")
    return {
        "id": entry.text("id"),
        "source": source,
        "citation": entry.text("citation"),
        "effective_from": effective_from,
        "effective_to": effective_to,
        "verified": entry.flag("verified", default=source.verified),
    }


def _items(doc: _Entry, section: str) -> list[_Entry]:
    raw = doc.data.get(section) or []
    if not isinstance(raw, list):
        raise RuleDataError(f"{doc.where}: {section!r} must be a list")
    entries = [_Entry(item, f"{doc.where} {section}[{i}]") for i, item in enumerate(raw)]
    for entry in entries:
        entry.where = f"{doc.where} {section} {entry.data.get('id', '?')}"
    return entries


def _load_rules_file(path: Path, book: dict[str, list[Any]]) -> tuple[Source, str]:
    doc = _Entry(_read_yaml(path), path.name)
    version = str(doc._get("version", True))
    src = _Entry(doc._get("source", True), f"{path.name} source")
    source = Source(
        id=src.text("id"), title=src.text("title"), kind=src.text("kind"),
        effective_from=src.req_day("effective_from"), verified=src.flag("verified"),
        reference=src.text("reference"), unverified_note=src.opt_text("unverified_note"),
        version=version,
    )
    if source.kind not in SOURCE_KINDS:
        raise RuleDataError(f"{path.name} source: kind must be one of {SOURCE_KINDS}")
    for e in _items(doc, "matters"):
        basis = e.text("basis")
        on_fail = e.opt_text("on_hardship_fail") or "not_eligible"
        if basis not in RULE_BASES:
            raise RuleDataError(f"{e.where}: unknown basis {basis!r}")
        if on_fail not in HARDSHIP_FAIL_OUTCOMES:
            raise RuleDataError(f"{e.where}: unknown on_hardship_fail {on_fail!r}")
        book["matters"].append(MatterRule(
            **_meta(e, source), matter=e.code(MatterType, e.text("matter"), "matter"),
            basis=basis, hardship_test=e.flag("hardship_test"), on_hardship_fail=on_fail,
            summary=e.text("summary"), caveat=e.opt_text("caveat"),
            documents=e.texts("documents") or (),
        ))
    for e in _items(doc, "mandatory_defence"):
        book["mandatory_defence"].append(MandatoryDefenceRule(
            **_meta(e, source), factor=e.code(CriminalFactor, e.text("factor"), "factor"),
            implied_by=e.codes("implied_by", Identity, required=False) or frozenset(),
            label=e.text("label"), note=e.opt_text("note"),
        ))
    for e in _items(doc, "exemptions"):
        identities = e.codes("identities", Identity) or frozenset()
        proof_raw = e._get("proof", True)
        proof_map = _Entry(proof_raw, f"{e.where} proof")
        proof = tuple(
            (e.code(Identity, key, "proof"), proof_map.texts(key) or ())
            for key in proof_map.data
        )
        missing = identities - {identity for identity, _ in proof}
        if missing:
            raise RuleDataError(f"{e.where}: no proof listed for {sorted(missing)}")
        book["exemptions"].append(ExemptionRule(
            **_meta(e, source), identities=identities,
            matters=e.codes("matters", MatterType, required=False),
            label=e.text("label"), proof=proof,
        ))
    for e in _items(doc, "special_groups"):
        identities = e.codes("identities", Identity) or frozenset()
        known = e.integer("known_count")
        if known != len(identities):
            raise RuleDataError(f"{e.where}: known_count {known} but {len(identities)} listed")
        book["special_groups"].append(SpecialGroupRule(
            **_meta(e, source), identities=identities, label=e.text("label"),
            known_count=known, stated_count=e.integer("stated_count"),
            unverified_note=e.opt_text("unverified_note"),
        ))
    for e in _items(doc, "extensions"):
        book["extensions"].append(LocalExtension(
            **_meta(e, source), identities=e.codes("identities", Identity) or frozenset(),
            triggers=e.codes("triggers", ExtensionTrigger) or frozenset(),
            matters=e.codes("matters", MatterType, required=False),
            effect=e.code(ExtensionEffect, e.text("effect"), "effect"),
            reason=e.text("reason"), next_step=e.opt_text("next_step"),
        ))
    for e in _items(doc, "hardship_standards"):
        book["hardship_standards"].append(HardshipStandard(**_meta(e, source)))
    return source, version


def _load_minimum_wage(path: Path) -> MinimumWageTable:
    doc = _Entry(_read_yaml(path), path.name)
    version = str(doc._get("version", True))
    tiers_raw = _Entry(doc._get("tiers", True), f"{path.name} tiers")
    tiers: dict[str, tuple[WageFigure, ...]] = {}
    for tier, rows in tiers_raw.data.items():
        if not isinstance(rows, list) or not rows:
            raise RuleDataError(f"{path.name} tiers {tier}: expected a non-empty list")
        figures = []
        for i, row in enumerate(rows):
            e = _Entry(row, f"{path.name} tiers {tier}[{i}]")
            monthly = e._get("monthly", False)
            if monthly is not None and (not isinstance(monthly, int | float)
                                        or isinstance(monthly, bool) or monthly <= 0):
                raise RuleDataError(f"{e.where}: 'monthly' must be a positive number or null")
            figures.append(WageFigure(
                tier=str(tier), effective_from=e.req_day("effective_from"),
                monthly=None if monthly is None else Decimal(str(monthly)),
                verified=e.flag("verified"), source=e.text("source"),
            ))
        figures.sort(key=lambda f: f.effective_from)
        if figures[0].monthly is None:
            raise RuleDataError(f"{path.name} tiers {tier}: the first figure must be known")
        tiers[str(tier)] = tuple(figures)
    districts_raw = _Entry(doc._get("districts", True), f"{path.name} districts")
    districts: dict[str, tuple[TierAssignment, ...]] = {}
    for district, rows in districts_raw.data.items():
        if district not in DISTRICTS:
            raise RuleDataError(f"{path.name} districts: unknown district {district!r}")
        if not isinstance(rows, list) or not rows:
            raise RuleDataError(f"{path.name} districts {district}: expected a non-empty list")
        assignments = []
        for i, row in enumerate(rows):
            e = _Entry(row, f"{path.name} districts {district}[{i}]")
            tier = e.text("tier")
            if tier not in tiers:
                raise RuleDataError(f"{e.where}: unknown tier {tier!r}")
            assignments.append(TierAssignment(
                district=district, tier=tier, effective_from=e.req_day("effective_from"),
                verified=e.flag("verified"), source=e.text("source"),
            ))
        districts[district] = tuple(sorted(assignments, key=lambda a: a.effective_from))
    return MinimumWageTable(version=version, source_note=doc.text("source_note"),
                            tiers=tiers, districts=districts)


def _load_texts(path: Path) -> Texts:
    doc = _Entry(_read_yaml(path), path.name)
    texts = Texts(version=str(doc._get("version", True)), data=doc.data)
    missing = [key for key in REQUIRED_TEXTS if not texts.has(key)]
    if missing:
        raise RuleDataError(f"{path.name}: missing sentences {missing}")
    return texts


def load_rule_book(data_dir: Path = DATA_DIR) -> RuleBook:
    """Read and check every data file in `data_dir`."""
    book: dict[str, list[Any]] = {
        "matters": [], "mandatory_defence": [], "exemptions": [], "special_groups": [],
        "extensions": [], "hardship_standards": [],
    }
    sources: list[Source] = []
    versions: dict[str, str] = {}
    rule_files = sorted(data_dir.glob("rules_*.yaml"))
    if not rule_files:
        raise RuleDataError(f"{data_dir}: no rules_*.yaml files")
    for path in rule_files:
        source, version = _load_rules_file(path, book)
        sources.append(source)
        versions[path.name] = version
    # National law first, then provincial, then local: the order citations are listed in.
    rank = {kind: i for i, kind in enumerate(SOURCE_KINDS)}
    for rules in book.values():
        rules.sort(key=lambda rule: rank[rule.source.kind])
    ids = [rule.id for rules in book.values() for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuleDataError(f"duplicate rule ids: {duplicates}")
    if len({s.id for s in sources}) != len(sources):
        raise RuleDataError("duplicate source ids")
    wage = _load_minimum_wage(data_dir / "minimum_wage.yaml")
    texts = _load_texts(data_dir / "texts.yaml")
    versions["minimum_wage.yaml"] = wage.version
    versions["texts.yaml"] = texts.version
    return RuleBook(
        sources=tuple(sources),
        matters=tuple(book["matters"]),
        mandatory_defence=tuple(book["mandatory_defence"]),
        exemptions=tuple(book["exemptions"]),
        special_groups=tuple(book["special_groups"]),
        extensions=tuple(book["extensions"]),
        hardship_standards=tuple(book["hardship_standards"]),
        minimum_wage=wage,
        texts=texts,
        versions=versions,
    )


@functools.cache
def default_rule_book() -> RuleBook:
    """The rule book shipped in the package (read once per process)."""
    return load_rule_book()

"""Legal aid pre-screen: inputs in, a preliminary outcome with reasons and next steps out.

Pure and synchronous: no Rasa, no database, no clock (the caller passes `as_of`). The rules are
data (`data/*.yaml`, loaded by `domain.legal_aid.rules`); this module only applies them:

1. Criminal defence (suspect or defendant): Art. 25 categories -> MANDATORY_APPOINTMENT (the
   case-handling organ must notify the legal aid body; no application, no hardship test); else
   Art. 24 with the hardship test, a failed test going to staff review ("或者其他原因").
2. A matter with no hardship condition (Art. 32) -> LIKELY_ELIGIBLE.
3. A matter in scope with the hardship condition (Arts. 29, 31, 33, Jiangsu additions): Art. 42
   people with proof are exempt from the check; otherwise per-capita income vs minimum wage.
4. A matter out of scope: Jiangsu special groups (scope limit lifted, hardship still tested),
   then the city's local extensions, else LIKELY_NOT_ELIGIBLE (never without next steps).

`needs` lists the inputs still missing that are known to be required given the answers so
far, in the order a form asks them; ask `needs[0]`, then screen again. While an input the
outcome depends on is missing, the outcome is a provisional NEEDS_STAFF_REVIEW.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from domain.legal_aid.codes import (
    CITY_WIDE,
    CRIMINAL_MATTERS,
    DISTRICTS,
    LITIGATION_MATTERS,
    CriminalFactor,
    CriminalRole,
    ExtensionEffect,
    ExtensionTrigger,
    Identity,
    MatterType,
    Outcome,
)
from domain.legal_aid.hardship import Threshold, fmt_yuan, per_capita, threshold_for
from domain.legal_aid.rules import (
    LocalExtension,
    MandatoryDefenceRule,
    MatterRule,
    RuleBook,
    default_rule_book,
)

# The order in which a form asks for missing inputs (names are ScreeningInput fields).
NEED_ORDER = (
    "matter_type",
    "criminal_factors",
    "identities",
    "has_proof_of_exempt_status",
    "household_size",
    "household_monthly_income",
    "is_litigation",
    "district",
)
URGENT_DAYS = 7  # Art. 44(一): fewer than seven days to a limitation period or deadline
MAX_HOUSEHOLD = 30

# How favourable an outcome is to the person (a local extension may only raise it).
_RANK = {
    Outcome.LIKELY_NOT_ELIGIBLE: 0,
    Outcome.NEEDS_STAFF_REVIEW: 1,
    Outcome.LIKELY_ELIGIBLE: 2,
    Outcome.MANDATORY_APPOINTMENT: 3,
}
_EFFECT_RANK = {
    ExtensionEffect.LEGAL_HELP: 0,
    ExtensionEffect.NEEDS_STAFF_REVIEW: 1,
    ExtensionEffect.HARDSHIP_TEST: 2,
    ExtensionEffect.LIKELY_ELIGIBLE: 3,
}


@dataclass(frozen=True, kw_only=True)
class ScreeningInput:
    """What the person has told us. None means "not asked yet".

    - `identities`: who the person is (for criminal defence: the suspect or defendant); an empty
      set means "none of these".
    - `criminal_factors`: Art. 25 circumstances of a suspect or defendant; empty = none.
    - `district`: where the case-handling organ (court), the dispute-handling organ or the
      matter is (Art. 38); it also selects the minimum wage of the hardship test.
    - `household_monthly_income`: total monthly income of the household, in yuan.
    - `has_proof_of_exempt_status`: the person can bring documents proving the Art. 42 status
      of the identity given (e.g. 低保证; for the elderly, minors and disabled people: also that
      they have no fixed source of income).
    - `is_litigation`: a lawsuit (True) or a non-litigation matter such as arbitration (False).

    Strings are accepted for the coded fields and converted; unknown codes raise ValueError.
    """

    as_of: date
    matter_type: MatterType | None = None
    identities: frozenset[Identity] | None = None
    criminal_role: CriminalRole | None = None
    criminal_factors: frozenset[CriminalFactor] | None = None
    district: str | None = None
    household_size: int | None = None
    household_monthly_income: Decimal | None = None
    has_proof_of_exempt_status: bool | None = None
    days_to_deadline: int | None = None
    is_litigation: bool | None = None

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        if self.matter_type is not None:
            put("matter_type", MatterType(self.matter_type))
        if self.criminal_role is not None:
            put("criminal_role", CriminalRole(self.criminal_role))
        if self.identities is not None:
            put("identities", frozenset(Identity(i) for i in self.identities))
        if self.criminal_factors is not None:
            put("criminal_factors", frozenset(CriminalFactor(f) for f in self.criminal_factors))
        if self.district is not None and self.district not in DISTRICTS:
            raise ValueError(f"unknown district {self.district!r}")
        if self.household_size is not None:
            if isinstance(self.household_size, bool) or not isinstance(self.household_size, int):
                raise ValueError("household_size must be an integer")
            if not 1 <= self.household_size <= MAX_HOUSEHOLD:
                raise ValueError(f"household_size must be 1..{MAX_HOUSEHOLD}")
        if self.household_monthly_income is not None:
            income = self.household_monthly_income
            try:
                amount = income if isinstance(income, Decimal) else Decimal(str(income))
            except InvalidOperation:
                raise ValueError(f"bad income {income!r}") from None
            if not amount.is_finite() or amount < 0:
                raise ValueError("household_monthly_income must be a non-negative amount")
            put("household_monthly_income", amount)
        role = self.criminal_role
        if role is not None:
            implied = (MatterType.CRIMINAL_DEFENCE if role is CriminalRole.SUSPECT_OR_DEFENDANT
                       else MatterType.CRIMINAL_VICTIM)
            if self.matter_type is None:
                put("matter_type", implied)
            elif self.matter_type not in (implied, MatterType.RETRIAL):
                raise ValueError(f"criminal_role {role} contradicts matter {self.matter_type}")


@dataclass(frozen=True)
class WhereToApply:
    """Art. 38 routing: the district (None if not known yet) and a Chinese sentence."""

    district: str | None
    text: str


@dataclass(frozen=True)
class NextStep:
    """Something the person can do next. `kind` is a stable code for buttons and flows:
    apply, staff_review, handoff, hotline_12348, mediation, booking, duty_lawyer, still_apply,
    human, legal_help."""

    kind: str
    text: str
    citation: str | None = None


@dataclass(frozen=True, kw_only=True)
class ScreeningResult:
    outcome: Outcome
    reasons: tuple[str, ...]  # Chinese sentences, in reading order
    citations: tuple[str, ...]  # the substantive basis, e.g. 《法律援助法》第三十一条第（五）项
    documents: tuple[str, ...]  # what to bring (Chinese)
    where_to_apply: WhereToApply | None
    decision_time: str  # Art. 43 (or Art. 36 for a mandatory appointment)
    urgent_path: str | None  # Art. 44, when the deadline is under seven days away
    next_steps: tuple[NextStep, ...]  # never empty
    needs: tuple[str, ...]  # missing ScreeningInput fields, in asking order
    # The part of `needs` the outcome depends on (the rest only routes the application).
    blocking_needs: tuple[str, ...] = ()
    rules_used: tuple[str, ...]  # "rule-id@version" of every rule and figure applied
    unverified: tuple[str, ...]  # notes on unverified rules or figures used (for staff)
    handoff: bool  # offer a hand-off to staff now
    threshold: Threshold | None  # the minimum-wage figure of the hardship test, if run
    per_capita_income: Decimal | None  # exact, if the hardship test was run
    disclaimer: str

    @property
    def complete(self) -> bool:
        """True once nothing is missing (the outcome is no longer provisional)."""
        return not self.needs


@dataclass(frozen=True)
class _Scope:
    """Why a matter is in scope: a matter rule, a special group or a local extension."""

    ref: str
    citation: str
    reason: str
    caveat: str | None
    documents: tuple[str, ...]
    on_hardship_fail: str
    verified: bool
    unverified_note: str | None


@dataclass
class _Builder:
    book: RuleBook
    inp: ScreeningInput
    matter: MatterType | None
    reasons: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    rules_used: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    needs: set[str] = field(default_factory=set)
    blocking: set[str] = field(default_factory=set)  # needs the outcome depends on
    extra_steps: list[NextStep] = field(default_factory=list)
    threshold: Threshold | None = None
    per_capita: Decimal | None = None
    case_docs: bool = False  # matter-specific documents were listed

    def text(self, key: str, **values: object) -> str:
        return self.book.texts.get(key, **values)

    @staticmethod
    def _add(items: list[str], *values: str) -> None:
        for value in values:
            if value not in items:
                items.append(value)

    def reason(self, *values: str) -> None:
        self._add(self.reasons, *values)

    def cite(self, *values: str) -> None:
        self._add(self.citations, *values)

    def doc(self, *values: str) -> None:
        self._add(self.documents, *values)

    def case_doc(self, *values: str) -> None:
        if values:
            self.case_docs = True
            self.doc(*values)

    def use(self, *refs: str) -> None:
        self._add(self.rules_used, *refs)

    def note(self, *notes: str | None) -> None:
        self._add(self.unverified, *(n for n in notes if n))

    def need(self, name: str, blocking: bool = True) -> None:
        """Ask for `name`; `blocking` if the outcome depends on it (not just the routing)."""
        assert name in NEED_ORDER, name
        self.needs.add(name)
        if blocking:
            self.blocking.add(name)

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)

    @property
    def identities(self) -> frozenset[Identity]:
        return self.inp.identities or frozenset()


def screen(inp: ScreeningInput, book: RuleBook | None = None) -> ScreeningResult:
    """Pre-screen one legal aid enquiry (see the module docstring)."""
    b = _Builder(book or default_rule_book(), inp, inp.matter_type)
    b.use(f"texts@{b.book.texts.version}")
    if b.matter is None:
        b.need("matter_type")
        return _finish(b, Outcome.NEEDS_STAFF_REVIEW)
    if b.matter is MatterType.CRIMINAL_DEFENCE:
        mandatory = _mandatory_rules(b)
        if mandatory:
            return _finish_mandatory(b, mandatory)
        if inp.criminal_factors is None:
            b.need("criminal_factors")
            return _finish(b, Outcome.NEEDS_STAFF_REVIEW)
        b.reason(b.text("reasons.criminal_factors_none"))
    return _finish(b, _evaluate_matter(b, b.matter))


def _in_effect_rules(b: _Builder, matter: MatterType) -> list[MatterRule]:
    rules = [r for r in b.book.matters if r.matter is matter and r.in_effect(b.inp.as_of)]
    # A rule without the hardship condition wins over one with it.
    return sorted(rules, key=lambda r: r.hardship_test)


def _mandatory_rules(b: _Builder) -> list[MandatoryDefenceRule]:
    factors = set(b.inp.criminal_factors or ())
    return [r for r in b.book.mandatory_defence
            if r.in_effect(b.inp.as_of)
            and (r.factor in factors or r.implied_by.intersection(b.identities))]


def _evaluate_matter(b: _Builder, matter: MatterType) -> Outcome:
    rules = _in_effect_rules(b, matter)
    if rules and not rules[0].hardship_test:
        rule = rules[0]
        b.use(rule.ref)
        b.cite(rule.citation)
        b.reason(b.text("reasons.scope_no_hardship", summary=rule.summary, citation=rule.citation))
        if rule.caveat:
            b.reason(rule.caveat)
        b.case_doc(*rule.documents)
        _note_rule(b, rule.verified, rule.source.unverified_note)
        return Outcome.LIKELY_ELIGIBLE
    if b.inp.identities is None:
        b.need("identities")
        if rules:
            b.cite(rules[0].citation)
            b.use(rules[0].ref)
            b.case_doc(*rules[0].documents)
        return Outcome.NEEDS_STAFF_REVIEW
    if rules:
        return _hardship_path(b, _scope_of_rule(b, rules[0]))
    return _out_of_scope(b, matter)


def _scope_of_rule(b: _Builder, rule: MatterRule) -> _Scope:
    key = f"reasons.scope_hardship_{rule.basis}"
    if not b.book.texts.has(key):
        key = "reasons.scope_hardship"
    return _Scope(
        ref=rule.ref, citation=rule.citation,
        reason=b.text(key, summary=rule.summary, citation=rule.citation),
        caveat=rule.caveat, documents=rule.documents, on_hardship_fail=rule.on_hardship_fail,
        verified=rule.verified, unverified_note=rule.source.unverified_note,
    )


def _note_rule(b: _Builder, verified: bool, note: str | None) -> None:
    if not verified:
        b.note(note)


def _out_of_scope(b: _Builder, matter: MatterType) -> Outcome:
    as_of = b.inp.as_of
    for rule in b.book.matters:
        if rule.matter is matter and rule.effective_from > as_of:
            b.reason(b.text("reasons.not_yet_in_effect", summary=rule.summary,
                            date=_fmt_date(rule.effective_from), citation=rule.citation,
                            as_of=_fmt_date(as_of)))
            break
    if matter not in CRIMINAL_MATTERS:
        for group in b.book.special_groups:
            if group.in_effect(as_of) and group.identities.intersection(b.identities):
                b.note(group.unverified_note if not group.verified else None)
                reason = b.text("reasons.special_group", label=group.label,
                                citation=group.citation)
                return _hardship_path(b, _Scope(
                    ref=group.ref, citation=group.citation, reason=reason, caveat=None,
                    documents=(), on_hardship_fail="not_eligible",
                    verified=group.verified, unverified_note=group.source.unverified_note,
                ))
    extensions = _extensions(b, matter, ExtensionTrigger.OUT_OF_SCOPE)
    if extensions and extensions[0].effect is ExtensionEffect.HARDSHIP_TEST:
        primary = extensions[0]
        _apply_extension_notes(b, extensions[1:])
        return _hardship_path(b, _Scope(
            ref=primary.ref, citation=primary.citation, reason=primary.reason, caveat=None,
            documents=(), on_hardship_fail="not_eligible",
            verified=primary.verified, unverified_note=primary.source.unverified_note,
        ))
    b.reason(b.text("reasons.out_of_scope"))
    b.cite("《法律援助法》第三十一条", "《法律援助法》第三十二条")
    if not extensions:
        return Outcome.LIKELY_NOT_ELIGIBLE
    _apply_extension_notes(b, extensions)
    return _extension_outcome(extensions[0].effect, Outcome.LIKELY_NOT_ELIGIBLE)


def _extensions(b: _Builder, matter: MatterType,
                trigger: ExtensionTrigger) -> list[LocalExtension]:
    """Applicable local extensions, strongest effect first (non-criminal matters only)."""
    if matter in CRIMINAL_MATTERS:
        return []
    found = [e for e in b.book.extensions
             if e.in_effect(b.inp.as_of) and e.covers(b.identities, matter, trigger)]
    return sorted(found, key=lambda e: -_EFFECT_RANK[e.effect])


def _apply_extension_notes(b: _Builder, extensions: Iterable[LocalExtension]) -> None:
    applied = False
    for ext in extensions:
        applied = True
        b.use(ext.ref)
        b.cite(ext.citation)
        b.reason(ext.reason)
        _note_rule(b, ext.verified, ext.source.unverified_note)
        if ext.next_step:
            b.extra_steps.append(NextStep("legal_help", ext.next_step, ext.citation))
    if applied:
        b.reason(b.text("reasons.extension_local_only"))


def _extension_outcome(effect: ExtensionEffect, otherwise: Outcome) -> Outcome:
    if effect is ExtensionEffect.LIKELY_ELIGIBLE:
        return Outcome.LIKELY_ELIGIBLE
    if effect is ExtensionEffect.NEEDS_STAFF_REVIEW:
        return Outcome.NEEDS_STAFF_REVIEW
    return otherwise


def _hardship_path(b: _Builder, scope: _Scope) -> Outcome:
    inp = b.inp
    assert b.matter is not None
    b.use(scope.ref)
    b.cite(scope.citation)
    b.reason(scope.reason)
    if scope.caveat:
        b.reason(scope.caveat)
    _note_rule(b, scope.verified, scope.unverified_note)
    b.case_doc(*scope.documents)

    exemptions = [e for e in b.book.exemptions
                  if e.in_effect(inp.as_of) and e.covers(b.identities, b.matter)]
    if exemptions:
        labels = "、".join(e.label for e in exemptions)
        citations = "、".join(e.citation for e in exemptions)
        proof = tuple(item for e in exemptions for item in e.proof_for(b.identities))
        if inp.has_proof_of_exempt_status is None:
            b.need("has_proof_of_exempt_status")
            return Outcome.NEEDS_STAFF_REVIEW
        if inp.has_proof_of_exempt_status:
            for e in exemptions:
                b.use(e.ref)
                b.cite(e.citation)
            b.reason(b.text("reasons.exempt_with_proof", label=labels, citation=citations),
                     b.text("reasons.exempt_scope_note"))
            b.doc(*proof)
            return Outcome.LIKELY_ELIGIBLE
        b.reason(b.text("reasons.exempt_without_proof", label=labels, citation=citations))
        b.doc(b.text("documents.exempt_proof_optional", items="；".join(proof)))

    b.doc(b.text("documents.hardship"))
    if inp.household_size is None:
        b.need("household_size")
    if inp.household_monthly_income is None:
        b.need("household_monthly_income")
    threshold = threshold_for(b.book.minimum_wage, inp.district, inp.as_of)
    if threshold is None:
        if inp.district is None and any(
                threshold_for(b.book.minimum_wage, d, inp.as_of)
                for d in b.book.minimum_wage.districts):
            b.need("district")
            return Outcome.NEEDS_STAFF_REVIEW
        if b.blocked:
            return Outcome.NEEDS_STAFF_REVIEW
        b.reason(b.text("reasons.hardship_unknown", date=_fmt_date(inp.as_of)))
        return Outcome.NEEDS_STAFF_REVIEW
    if b.blocked:
        return Outcome.NEEDS_STAFF_REVIEW
    assert inp.household_size is not None and inp.household_monthly_income is not None

    standards = [s for s in b.book.hardship_standards if s.in_effect(inp.as_of)]
    for s in standards:
        b.use(s.ref)
        b.cite(s.citation)
        _note_rule(b, s.verified, s.source.unverified_note)
    b.threshold = threshold
    b.use(f"{threshold.ref}@{b.book.minimum_wage.version}")
    place = _place(b, threshold.district) if threshold.district else "本市"
    b.reason(b.text(
        "reasons.hardship_standard", citations="、".join(s.citation for s in standards),
        place=place, tier=threshold.tier, date=_fmt_date(threshold.effective_from),
        amount=fmt_yuan(threshold.monthly),
        verify="" if threshold.verified else b.text("reasons.hardship_unverified"),
    ))
    if threshold.fallback_from is not None:
        b.reason(b.text("reasons.hardship_fallback", tier=threshold.tier,
                        date=_fmt_date(threshold.fallback_from),
                        prev_date=_fmt_date(threshold.effective_from),
                        amount=fmt_yuan(threshold.monthly)))
    if threshold.district is None:
        b.reason(b.text("reasons.hardship_same_everywhere"))
    if not threshold.verified:
        b.note(b.book.minimum_wage.source_note)

    value = per_capita(inp.household_monthly_income, inp.household_size)
    b.per_capita = value
    shown = fmt_yuan(value)
    if Decimal(shown) != value:
        shown = "约" + shown
    values = {"per_capita": shown, "income": fmt_yuan(inp.household_monthly_income),
              "size": inp.household_size, "amount": fmt_yuan(threshold.monthly)}
    if value <= threshold.monthly:
        b.reason(b.text("reasons.hardship_pass", **values))
        return Outcome.LIKELY_ELIGIBLE
    b.reason(b.text("reasons.hardship_fail", **values))
    outcome = Outcome.LIKELY_NOT_ELIGIBLE
    if scope.on_hardship_fail == "staff_review":
        b.reason(b.text("reasons.hardship_fail_art24"))
        outcome = Outcome.NEEDS_STAFF_REVIEW
    extensions = [e for e in _extensions(b, b.matter, ExtensionTrigger.HARDSHIP_FAILED)
                  if e.effect is not ExtensionEffect.HARDSHIP_TEST]
    if extensions:
        _apply_extension_notes(b, extensions)
        candidate = _extension_outcome(extensions[0].effect, outcome)
        if _RANK[candidate] > _RANK[outcome]:
            outcome = candidate
    return outcome


# --- assembling the result --------------------------------------------------------------------

def _fmt_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _place(b: _Builder, district: str) -> str:
    return b.text("where.city_wide_place") if district == CITY_WIDE else district


def _finish_mandatory(b: _Builder, hits: list[MandatoryDefenceRule]) -> ScreeningResult:
    for r in hits:
        b.use(r.ref)
        b.cite(r.citation)
    b.cite("《法律援助法》第三十六条")
    b.reason(b.text("reasons.mandatory", labels="、".join(r.label for r in hits),
                    citations="、".join(r.citation for r in hits)))
    for r in hits:
        if r.note:
            b.reason(r.note)
    b.reason(b.text("reasons.mandatory_handoff"))
    b.doc(b.text("documents.mandatory"))
    steps = (
        _step(b, "handoff"),
        _step(b, "duty_lawyer"),
        _step(b, "hotline_12348"),
    )
    return ScreeningResult(
        outcome=Outcome.MANDATORY_APPOINTMENT,
        reasons=tuple(b.reasons),
        citations=tuple(b.citations),
        documents=tuple(b.documents),
        where_to_apply=WhereToApply(b.inp.district, b.text("where.mandatory")),
        decision_time=b.text("decision_time_mandatory"),
        urgent_path=None,
        next_steps=steps,
        needs=(),
        rules_used=tuple(b.rules_used),
        unverified=tuple(b.unverified),
        handoff=True,
        threshold=None,
        per_capita_income=None,
        disclaimer=b.text("disclaimer"),
    )


def _step(b: _Builder, kind: str) -> NextStep:
    key = f"next_step_citations.{kind}"
    citation = b.text(key) if b.book.texts.has(key) else None
    return NextStep(kind, b.text(f"next_steps.{kind}"), citation)


def _where(b: _Builder) -> WhereToApply:
    inp = b.inp
    litigation = True if b.matter in LITIGATION_MATTERS else inp.is_litigation
    parts: list[str] = []
    if litigation is None:
        parts += [b.text("where.litigation"), b.text("where.non_litigation")]
    else:
        parts.append(b.text("where.litigation" if litigation else "where.non_litigation"))
    if inp.district is not None:
        parts.append(b.text("where.district", place=_place(b, inp.district)))
    if b.matter is MatterType.CRIMINAL_DEFENCE:
        parts.append(b.text("where.detained"))
    return WhereToApply(inp.district, "".join(parts))


def _finish(b: _Builder, outcome: Outcome) -> ScreeningResult:
    inp = b.inp
    blocked = b.blocked
    if blocked:
        outcome = Outcome.NEEDS_STAFF_REVIEW
    applying = outcome in (Outcome.LIKELY_ELIGIBLE, Outcome.NEEDS_STAFF_REVIEW)
    if applying and b.matter is not None:
        if inp.is_litigation is None and b.matter not in LITIGATION_MATTERS:
            b.need("is_litigation", blocking=False)
        if inp.district is None:
            b.need("district", blocking=False)
    needs = tuple(n for n in NEED_ORDER if n in b.needs)
    if blocked:
        labels = [b.text(f"need_labels.{n}") for n in needs if n in b.blocking]
        b.reason(b.text("reasons.missing_info", items="、".join(labels)))

    if b.matter is not None:
        head = [b.text("documents.identity")]
        if not b.case_docs:
            head.append(b.text("documents.case_materials"))
        b.documents[:0] = head
        b.doc(b.text("documents.agent"))

    pressing = (inp.days_to_deadline is not None and inp.days_to_deadline < URGENT_DAYS
                and not blocked)
    urgent = pressing and applying  # Art. 44 applies to aid the person may get
    handoff = pressing or (outcome is Outcome.NEEDS_STAFF_REVIEW and not blocked)
    steps = _next_steps(b, outcome, blocked, handoff)
    return ScreeningResult(
        outcome=outcome,
        reasons=tuple(b.reasons),
        citations=tuple(b.citations),
        documents=tuple(b.documents),
        where_to_apply=_where(b) if b.matter is not None else None,
        decision_time=b.text("decision_time"),
        urgent_path=b.text("urgent_path") if urgent else None,
        next_steps=steps,
        needs=needs,
        blocking_needs=tuple(n for n in needs if n in b.blocking),
        rules_used=tuple(b.rules_used),
        unverified=tuple(b.unverified),
        handoff=handoff,
        threshold=b.threshold,
        per_capita_income=b.per_capita,
        disclaimer=b.text("disclaimer"),
    )


def _next_steps(b: _Builder, outcome: Outcome, blocked: bool,
                handoff: bool) -> tuple[NextStep, ...]:
    civil = b.matter is not None and b.matter not in CRIMINAL_MATTERS
    kinds: list[str]
    if blocked:
        kinds = ["hotline_12348", "human"]
    elif outcome is Outcome.LIKELY_ELIGIBLE:
        kinds = ["apply", "booking", "hotline_12348", "human"]
    elif outcome is Outcome.NEEDS_STAFF_REVIEW:
        kinds = ["staff_review", "hotline_12348"] + (["mediation"] if civil else [])
    else:
        kinds = ["hotline_12348"] + (["mediation"] if civil else []) + [
            "booking", "still_apply", "human"]
    if b.matter is MatterType.CRIMINAL_DEFENCE:
        kinds.insert(1, "duty_lawyer")
    if handoff and "staff_review" not in kinds:
        kinds.insert(0, "handoff")
    steps = [_step(b, k) for k in kinds]
    if not blocked:
        steps = b.extra_steps + steps
    return tuple(steps)

"""Property tests of the pre-screen: monotone in income, exemptions and Art. 32 never refused
for income, and the invariants of every answer on arbitrary inputs."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.legal_aid import (
    CriminalFactor,
    Identity,
    MatterType,
    Outcome,
    ScreeningInput,
    default_rule_book,
    screen,
)
from domain.legal_aid.codes import DISTRICTS
from tests.domain.legal_aid.invariants import check_invariants

BOOK = default_rule_book()
RANK = {Outcome.LIKELY_NOT_ELIGIBLE: 0, Outcome.NEEDS_STAFF_REVIEW: 1,
        Outcome.LIKELY_ELIGIBLE: 2, Outcome.MANDATORY_APPOINTMENT: 3}

as_of_dates = st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 12, 31))
incomes = st.decimals(min_value=0, max_value=200_000, places=2, allow_nan=False,
                      allow_infinity=False)
identity_sets = st.frozensets(st.sampled_from(list(Identity)), max_size=3)
maybe_identity_sets = st.none() | identity_sets
factor_sets = st.none() | st.frozensets(st.sampled_from(list(CriminalFactor)), max_size=2)


@st.composite
def inputs(draw: st.DrawFn) -> ScreeningInput:
    return ScreeningInput(
        as_of=draw(as_of_dates),
        matter_type=draw(st.none() | st.sampled_from(list(MatterType))),
        identities=draw(maybe_identity_sets),
        criminal_factors=draw(factor_sets),
        district=draw(st.none() | st.sampled_from(DISTRICTS)),
        household_size=draw(st.none() | st.integers(1, 12)),
        household_monthly_income=draw(st.none() | incomes),
        has_proof_of_exempt_status=draw(st.none() | st.booleans()),
        days_to_deadline=draw(st.none() | st.integers(-3, 400)),
        is_litigation=draw(st.none() | st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(inputs())
def test_every_answer_keeps_the_invariants(inp: ScreeningInput) -> None:
    result = screen(inp)
    check_invariants(result)
    if result.outcome is Outcome.MANDATORY_APPOINTMENT:
        assert result.handoff and not result.needs
    if "household_monthly_income" in result.needs:
        assert inp.household_monthly_income is None


@settings(max_examples=400, deadline=None)
@given(inputs(), incomes, incomes)
def test_lower_income_never_makes_the_outcome_worse(inp: ScreeningInput, a: Decimal,
                                                    b: Decimal) -> None:
    low, high = sorted((a, b))
    size = inp.household_size or 1
    richer = screen(dataclasses.replace(inp, household_size=size, household_monthly_income=high))
    poorer = screen(dataclasses.replace(inp, household_size=size, household_monthly_income=low))
    assert RANK[poorer.outcome] >= RANK[richer.outcome], (poorer.reasons, richer.reasons)
    if richer.outcome is Outcome.LIKELY_ELIGIBLE:
        assert poorer.outcome is Outcome.LIKELY_ELIGIBLE


def _in_scope_hardship_matters(on: date) -> list[MatterType]:
    return sorted({r.matter for r in BOOK.matters if r.in_effect(on) and r.hardship_test})


@st.composite
def exempt_inputs(draw: st.DrawFn) -> ScreeningInput:
    """An Art. 42 person with proof whose matter is in scope (with the hardship condition)."""
    on = draw(as_of_dates)
    exemption = draw(st.sampled_from([e for e in BOOK.exemptions if e.in_effect(on)]))
    identity = draw(st.sampled_from(sorted(exemption.identities)))
    matters = [m for m in _in_scope_hardship_matters(on)
               if exemption.matters is None or m in exemption.matters]
    return ScreeningInput(
        as_of=on,
        matter_type=draw(st.sampled_from(matters)),
        identities=frozenset({identity}) | draw(identity_sets),
        criminal_factors=frozenset(),
        has_proof_of_exempt_status=True,
        district=draw(st.none() | st.sampled_from(DISTRICTS)),
        household_size=draw(st.none() | st.integers(1, 12)),
        household_monthly_income=draw(st.none() | incomes),
        is_litigation=draw(st.none() | st.booleans()),
        days_to_deadline=draw(st.none() | st.integers(-3, 400)),
    )


@settings(max_examples=300, deadline=None)
@given(exempt_inputs())
def test_exempt_person_with_proof_is_never_refused_for_income(inp: ScreeningInput) -> None:
    result = screen(inp)
    assert result.outcome in (Outcome.LIKELY_ELIGIBLE, Outcome.MANDATORY_APPOINTMENT)
    assert "household_size" not in result.needs
    assert "household_monthly_income" not in result.needs
    assert result.threshold is None


@st.composite
def art32_inputs(draw: st.DrawFn) -> ScreeningInput:
    on = draw(as_of_dates)
    matters = sorted({r.matter for r in BOOK.matters if r.basis == "art32" and r.in_effect(on)})
    inp = draw(inputs())
    return dataclasses.replace(inp, as_of=on, matter_type=draw(st.sampled_from(matters)))


@settings(max_examples=300, deadline=None)
@given(art32_inputs())
def test_art32_matter_is_never_refused_for_income(inp: ScreeningInput) -> None:
    result = screen(inp)
    assert result.outcome is Outcome.LIKELY_ELIGIBLE
    assert result.threshold is None
    assert not {"identities", "household_size", "household_monthly_income"} & set(result.needs)
    assert all(c.startswith("《法律援助法》第三十二条") for c in result.citations)

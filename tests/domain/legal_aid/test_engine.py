"""Engine details the scenario table does not spell out: inputs, routing, texts, rule ids."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.legal_aid import (
    CriminalFactor,
    CriminalRole,
    Identity,
    MatterType,
    Outcome,
    ScreeningInput,
    screen,
)

DAY = date(2026, 3, 1)


def test_strings_from_slots_are_converted() -> None:
    inp = ScreeningInput(
        as_of=DAY,
        matter_type="labour_remuneration",  # type: ignore[arg-type]
        identities=["migrant_worker"],  # type: ignore[arg-type]
        criminal_factors=["minor"],  # type: ignore[arg-type]
        household_monthly_income=3500,  # type: ignore[arg-type]
    )
    assert inp.matter_type is MatterType.LABOUR_REMUNERATION
    assert inp.identities == frozenset({Identity.MIGRANT_WORKER})
    assert inp.criminal_factors == frozenset({CriminalFactor.MINOR})
    assert inp.household_monthly_income == Decimal(3500)


@pytest.mark.parametrize("kwargs", [
    {"district": "常熟市"},
    {"household_size": 0},
    {"household_size": 31},
    {"household_size": True},
    {"household_monthly_income": Decimal(-1)},
    {"household_monthly_income": Decimal("NaN")},
    {"matter_type": "bankruptcy"},
    {"identities": ["alien"]},
    {"criminal_role": CriminalRole.VICTIM, "matter_type": MatterType.CRIMINAL_DEFENCE},
    {"criminal_role": CriminalRole.SUSPECT_OR_DEFENDANT, "matter_type": MatterType.OTHER_CIVIL},
])
def test_bad_input_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ScreeningInput(as_of=DAY, **kwargs)  # type: ignore[arg-type]


def test_criminal_role_implies_the_matter() -> None:
    assert ScreeningInput(as_of=DAY, criminal_role=CriminalRole.VICTIM).matter_type is (
        MatterType.CRIMINAL_VICTIM)
    suspect = ScreeningInput(as_of=DAY, criminal_role=CriminalRole.SUSPECT_OR_DEFENDANT)
    assert suspect.matter_type is MatterType.CRIMINAL_DEFENCE
    retrial = ScreeningInput(as_of=DAY, criminal_role=CriminalRole.SUSPECT_OR_DEFENDANT,
                             matter_type=MatterType.RETRIAL)
    assert retrial.matter_type is MatterType.RETRIAL


def eligible_labour(**changes: object) -> ScreeningInput:
    values: dict[str, object] = {
        "as_of": DAY, "matter_type": MatterType.LABOUR_REMUNERATION, "identities": frozenset(),
        "household_size": 2, "household_monthly_income": Decimal(4000), "district": "武进区",
        "is_litigation": True,
    }
    values.update(changes)
    return ScreeningInput(**values)  # type: ignore[arg-type]


def test_a_complete_eligible_answer() -> None:
    result = screen(eligible_labour())
    assert result.outcome is Outcome.LIKELY_ELIGIBLE and result.complete
    assert not result.handoff and result.urgent_path is None
    assert result.per_capita_income == Decimal(2000)
    assert result.threshold is not None and result.threshold.monthly == Decimal(2660)
    assert "7日内" in result.decision_time and "3日内" in result.decision_time
    assert "第四十三条" in result.decision_time
    assert result.where_to_apply is not None
    assert result.where_to_apply.district == "武进区"
    assert "办案机关（如人民法院）所在地" in result.where_to_apply.text
    assert "武进区的法律援助机构" in result.where_to_apply.text
    assert [s.kind for s in result.next_steps] == ["apply", "booking", "hotline_12348", "human"]
    assert result.documents[0].startswith("申请人的居民身份证")
    assert any("诚信承诺" in d for d in result.documents)
    assert "law2021.art31.5@2026.11-1" in result.rules_used
    assert any(r.startswith("minimum_wage:武进区:一类:2026-01-01") for r in result.rules_used)
    assert any("最低工资标准" in note for note in result.unverified)
    assert any("尚待核实" in r for r in result.reasons)


def test_non_litigation_routing() -> None:
    result = screen(eligible_labour(is_litigation=False))
    assert result.where_to_apply is not None
    assert "争议处理机关所在地或者事由发生地" in result.where_to_apply.text
    assert "办案机关" not in result.where_to_apply.text


def test_unknown_litigation_gives_both_routes() -> None:
    result = screen(eligible_labour(is_litigation=None))
    assert result.needs == ("is_litigation",)
    assert result.where_to_apply is not None
    assert "办案机关" in result.where_to_apply.text
    assert "争议处理机关" in result.where_to_apply.text


def test_hotline_step_cites_art23_and_local_practice_only() -> None:
    result = screen(eligible_labour(household_monthly_income=Decimal(90000)))
    (hotline,) = [s for s in result.next_steps if s.kind == "hotline_12348"]
    assert hotline.citation == "《法律援助法》第二十三条；本地做法"
    assert "12348" in hotline.text and "按本地做法" in hotline.text


def test_not_eligible_is_never_a_bare_no() -> None:
    result = screen(eligible_labour(household_monthly_income=Decimal(90000)))
    assert result.outcome is Outcome.LIKELY_NOT_ELIGIBLE
    kinds = [s.kind for s in result.next_steps]
    assert kinds == ["hotline_12348", "mediation", "booking", "still_apply", "human"]
    (still,) = [s for s in result.next_steps if s.kind == "still_apply"]
    assert still.citation == "《法律援助法》第四十九条"


def test_per_capita_shown_rounded_but_compared_exactly() -> None:
    result = screen(eligible_labour(household_size=3, household_monthly_income=Decimal(7981)))
    assert result.outcome is Outcome.LIKELY_NOT_ELIGIBLE
    assert result.per_capita_income is not None and result.per_capita_income > Decimal(2660)
    assert any("约2660.33元" in r for r in result.reasons)


def test_provisional_answer_says_what_is_missing() -> None:
    result = screen(eligible_labour(household_monthly_income=None))
    assert result.outcome is Outcome.NEEDS_STAFF_REVIEW and not result.complete
    assert result.needs == ("household_monthly_income",)
    assert not result.handoff
    assert any("家庭每月总收入" in r for r in result.reasons)


def test_mandatory_appointment_answer() -> None:
    result = screen(ScreeningInput(as_of=DAY, matter_type=MatterType.CRIMINAL_DEFENCE,
                                   identities=frozenset({Identity.MINOR})))
    assert result.outcome is Outcome.MANDATORY_APPOINTMENT
    assert result.handoff and result.complete
    assert "第三十六条" in result.decision_time and "三日内" in result.decision_time
    assert result.where_to_apply is not None
    assert "不需要本人申请" in result.where_to_apply.text
    assert [s.kind for s in result.next_steps] == ["handoff", "duty_lawyer", "hotline_12348"]
    assert result.threshold is None


def test_tech_worker_help_step_comes_first_and_cites_local_policy() -> None:
    result = screen(ScreeningInput(as_of=DAY, matter_type=MatterType.OTHER_CIVIL,
                                   identities=frozenset({Identity.TECH_WORKER})))
    assert result.next_steps[0].kind == "legal_help"
    assert result.next_steps[0].citation is not None
    assert result.next_steps[0].citation.startswith("本市政策")
    assert any("法律帮助不同于法律援助" in r for r in result.reasons)


def test_jiangsu_matter_result_lists_the_unverified_note() -> None:
    result = screen(ScreeningInput(
        as_of=DAY, matter_type=MatterType.LAND_EXPROPRIATION, identities=frozenset(),
        household_size=2, household_monthly_income=Decimal(3000), district="金坛区",
        is_litigation=False))
    assert result.outcome is Outcome.LIKELY_ELIGIBLE
    assert any("江苏省法律援助条例" in note and "未核实" in note for note in result.unverified)
    assert "js2025.land_expropriation@2026.11-1" in result.rules_used


def test_results_are_frozen() -> None:
    result = screen(eligible_labour())
    with pytest.raises(AttributeError):
        result.outcome = Outcome.LIKELY_NOT_ELIGIBLE  # type: ignore[misc]

"""Table-driven pre-screen scenarios from scenarios.yaml, plus invariants every answer keeps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.legal_aid import Outcome, ScreeningInput, screen
from tests.domain.legal_aid.invariants import check_invariants

TABLE = yaml.safe_load((Path(__file__).parent / "scenarios.yaml").read_text(encoding="utf-8"))
DEFAULTS: dict[str, Any] = TABLE["defaults"]
SCENARIOS: list[dict[str, Any]] = TABLE["scenarios"]
def build_input(raw: dict[str, Any]) -> ScreeningInput:
    values = {**DEFAULTS, **raw}
    as_of = values.pop("as_of")
    assert isinstance(as_of, date)
    income = values.pop("household_monthly_income", None)
    return ScreeningInput(
        as_of=as_of,
        household_monthly_income=None if income is None else Decimal(str(income)),
        **values,
    )


def test_table_has_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 40
    names = [s["name"] for s in SCENARIOS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any]) -> None:
    result = screen(build_input(scenario["input"]))
    expect = scenario["expect"]
    summary = "\n".join(result.reasons)
    assert result.outcome == Outcome(expect["outcome"]), summary
    assert list(result.citations) == expect["citations"], summary
    assert list(result.needs) == expect.get("needs", [])
    if "urgent" in expect:
        assert (result.urgent_path is not None) is expect["urgent"]
        if expect["urgent"]:
            assert result.urgent_path is not None
            assert "第四十四条" in result.urgent_path
    if "handoff" in expect:
        assert result.handoff is expect["handoff"]
    for text in expect.get("reasons_contain", []):
        assert text in summary, f"{text!r} not in reasons:\n{summary}"
    for text in expect.get("documents_contain", []):
        assert any(text in d for d in result.documents), result.documents
    if "where_contains" in expect or "where_district" in expect:
        assert result.where_to_apply is not None
        for text in expect.get("where_contains", []):
            assert text in result.where_to_apply.text
        if "where_district" in expect:
            assert result.where_to_apply.district == expect["where_district"]
    if "first_step" in expect:
        assert result.next_steps[0].kind == expect["first_step"]
    check_invariants(result)

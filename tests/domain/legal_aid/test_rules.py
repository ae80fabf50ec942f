"""The rule book: shipped data files, their checks, thresholds by date, configurability."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from domain.legal_aid import (
    Identity,
    MatterType,
    Outcome,
    RuleDataError,
    ScreeningInput,
    default_rule_book,
    load_rule_book,
    screen,
    threshold_for,
)
from domain.legal_aid.codes import DISTRICTS, ExtensionEffect
from domain.legal_aid.rules import DATA_DIR, RuleBook

BOOK = default_rule_book()


def all_rules(book: RuleBook) -> list[object]:
    return [*book.matters, *book.mandatory_defence, *book.exemptions, *book.special_groups,
            *book.extensions, *book.hardship_standards]


def copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def edit_yaml(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- shipped data -------------------------------------------------------------------------------

def test_every_rule_has_a_source_citation_and_effective_date() -> None:
    rules = all_rules(BOOK)
    assert len(rules) >= 35
    for rule in rules:
        assert getattr(rule, "effective_from", None) is not None
        assert getattr(rule, "source", None) is not None
        assert getattr(rule, "citation", "")


def test_every_catalog_matter_except_other_civil_has_a_rule() -> None:
    covered = {r.matter for r in BOOK.matters}
    assert covered == set(MatterType) - {MatterType.OTHER_CIVIL}


def test_sources() -> None:
    by_id = {s.id: s for s in BOOK.sources}
    assert by_id["law2021"].effective_from == date(2022, 1, 1)
    assert by_id["law2021"].verified
    assert by_id["js2025"].effective_from == date(2025, 1, 1)
    assert not by_id["js2025"].verified
    assert by_id["cz2022"].kind == "local_policy"
    assert by_id["cz2022"].effective_from == date(2022, 9, 4)


def test_no_superseded_2003_regulation_and_no_jiangsu_article_numbers() -> None:
    for rule in all_rules(BOOK):
        citation = getattr(rule, "citation", "")
        assert "《法律援助条例》" not in citation
        if "江苏省" in citation:
            assert "条第" not in citation and "第" not in citation.split("》")[1]


def test_jiangsu_rules_and_special_groups_are_marked_unverified() -> None:
    for rule in all_rules(BOOK):
        if getattr(rule, "source").id == "js2025":  # noqa: B009
            assert not getattr(rule, "verified")  # noqa: B009
    (group,) = BOOK.special_groups
    assert group.identities == {Identity.LOW_INCOME, Identity.ORPHAN}
    assert (group.known_count, group.stated_count) == (2, 6)
    assert group.unverified_note and "未核实" in group.unverified_note


def test_local_extensions_are_conservative() -> None:
    effects = {e.id: e.effect for e in BOOK.extensions}
    assert effects == {
        "cz2022.p9.startup_graduate": ExtensionEffect.NEEDS_STAFF_REVIEW,
        "cz2022.p9.tech_worker": ExtensionEffect.LEGAL_HELP,
    }
    for ext in BOOK.extensions:
        assert ext.effective_from == date(2022, 9, 4)
        assert ext.citation.startswith("本市政策")


def test_art42_3_is_limited_to_wages_and_work_injury() -> None:
    (item3,) = [e for e in BOOK.exemptions if e.id == "law2021.art42.3"]
    assert item3.matters == frozenset({MatterType.LABOUR_REMUNERATION, MatterType.WORK_INJURY})


def test_every_minimum_wage_figure_is_unverified_and_districts_are_complete() -> None:
    table = BOOK.minimum_wage
    assert set(table.districts) == set(DISTRICTS)
    for figures in table.tiers.values():
        assert all(not f.verified and f.source for f in figures)
    for assignments in table.districts.values():
        assert all(not a.verified and a.tier == "一类" for a in assignments)


# --- thresholds by date --------------------------------------------------------------------------

@pytest.mark.parametrize(("on", "expected"), [
    (date(2021, 8, 1), Decimal(2280)),
    (date(2024, 12, 31), Decimal(2280)),
    (date(2025, 1, 1), Decimal(2490)),
    (date(2025, 12, 31), Decimal(2490)),
    (date(2026, 1, 1), Decimal(2660)),
    (date(2030, 1, 1), Decimal(2660)),
])
def test_threshold_by_date(on: date, expected: Decimal) -> None:
    for district in DISTRICTS:
        threshold = threshold_for(BOOK.minimum_wage, district, on)
        assert threshold is not None
        assert threshold.monthly == expected
        assert threshold.tier == "一类"
        assert not threshold.verified
        assert threshold.fallback_from is None


def test_no_threshold_before_the_first_figure() -> None:
    assert threshold_for(BOOK.minimum_wage, "天宁区", date(2021, 7, 31)) is None
    assert threshold_for(BOOK.minimum_wage, None, date(2021, 7, 31)) is None


def test_no_district_gives_the_common_figure() -> None:
    threshold = threshold_for(BOOK.minimum_wage, None, date(2026, 3, 1))
    assert threshold is not None and threshold.district is None
    assert threshold.monthly == Decimal(2660)


@pytest.fixture
def tier2_book(tmp_path: Path) -> RuleBook:
    """武进区 moved to 二类 from 2026-01-01, whose 2026 figure is unknown."""
    data = copy_data(tmp_path)
    edit_yaml(data / "minimum_wage.yaml",
              '  武进区:\n    - {tier: 一类, effective_from: 2021-08-01, verified: false, '
              'source: "assumed 一类"}\n',
              '  武进区:\n    - {tier: 一类, effective_from: 2021-08-01, verified: false, '
              'source: "assumed 一类"}\n    - {tier: 二类, effective_from: 2026-01-01, '
              'verified: false, source: "test"}\n')
    return load_rule_book(data)


def test_unknown_figure_falls_back_to_the_previous_one_and_says_so(tier2_book: RuleBook) -> None:
    threshold = threshold_for(tier2_book.minimum_wage, "武进区", date(2026, 3, 1))
    assert threshold is not None
    assert (threshold.tier, threshold.monthly) == ("二类", Decimal(2260))
    assert threshold.effective_from == date(2025, 1, 1)
    assert threshold.fallback_from == date(2026, 1, 1)
    result = screen(ScreeningInput(
        as_of=date(2026, 3, 1), matter_type=MatterType.LABOUR_REMUNERATION, identities=frozenset(),
        district="武进区", household_size=1, household_monthly_income=Decimal(2260),
        is_litigation=False), tier2_book)
    assert result.outcome is Outcome.LIKELY_ELIGIBLE
    assert any("尚未录入" in r and "暂按2025年1月1日起执行的2260元" in r for r in result.reasons)


def test_differing_districts_need_the_district(tier2_book: RuleBook) -> None:
    assert threshold_for(tier2_book.minimum_wage, None, date(2026, 3, 1)) is None
    result = screen(ScreeningInput(
        as_of=date(2026, 3, 1), matter_type=MatterType.LABOUR_REMUNERATION, identities=frozenset(),
        household_size=1, household_monthly_income=Decimal(2000), is_litigation=True), tier2_book)
    assert result.outcome is Outcome.NEEDS_STAFF_REVIEW
    assert result.needs == ("district",)
    assert result.threshold is None
    assert not result.handoff
    assert any("所在的区" in r for r in result.reasons)


def test_2022_uses_the_2021_figure() -> None:
    result = screen(ScreeningInput(
        as_of=date(2022, 3, 1), matter_type=MatterType.TRAFFIC_ACCIDENT, identities=frozenset(),
        district="钟楼区", household_size=1, household_monthly_income=Decimal(2280),
        is_litigation=True))
    assert result.threshold is not None
    assert result.threshold.monthly == Decimal(2280)
    assert result.outcome is Outcome.LIKELY_ELIGIBLE


def test_no_figure_for_the_date_goes_to_staff(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    edit_yaml(data / "minimum_wage.yaml", "{effective_from: 2021-08-01, monthly: 2280",
              "{effective_from: 2023-01-01, monthly: 2280")
    book = load_rule_book(data)
    result = screen(ScreeningInput(
        as_of=date(2022, 3, 1), matter_type=MatterType.TRAFFIC_ACCIDENT, identities=frozenset(),
        district="钟楼区", household_size=1, household_monthly_income=Decimal(100),
        is_litigation=True), book)
    assert result.outcome is Outcome.NEEDS_STAFF_REVIEW
    assert result.threshold is None and result.complete
    assert any("没有查到" in r for r in result.reasons)


# --- configurability -----------------------------------------------------------------------------

def test_the_bureau_can_change_a_local_extension(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    edit_yaml(data / "rules_changzhou_2022.yaml", "effect: legal_help", "effect: hardship_test")
    book = load_rule_book(data)
    inp = ScreeningInput(as_of=date(2026, 3, 1), matter_type=MatterType.OTHER_CIVIL,
                         identities=frozenset({Identity.TECH_WORKER}), district="新北区",
                         household_size=2, household_monthly_income=Decimal(3000),
                         is_litigation=True)
    assert screen(inp).outcome is Outcome.LIKELY_NOT_ELIGIBLE
    result = screen(inp, book)
    assert result.outcome is Outcome.LIKELY_ELIGIBLE
    assert result.threshold is not None
    assert result.citations[0].startswith("本市政策")


def test_an_expired_rule_no_longer_applies(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    edit_yaml(data / "rules_law_2021.yaml",
              "    citation: 《法律援助法》第三十二条第（二）项\n",
              "    citation: 《法律援助法》第三十二条第（二）项\n    effective_to: 2030-01-01\n")
    book = load_rule_book(data)
    inp = ScreeningInput(as_of=date(2029, 12, 31), matter_type=MatterType.GOOD_SAMARITAN,
                         identities=frozenset(), district="金坛区", is_litigation=True)
    assert screen(inp, book).outcome is Outcome.LIKELY_ELIGIBLE
    later = screen(ScreeningInput(as_of=date(2030, 1, 1), matter_type=MatterType.GOOD_SAMARITAN,
                                  identities=frozenset(), district="金坛区", is_litigation=True),
                   book)
    assert later.outcome is Outcome.LIKELY_NOT_ELIGIBLE


# --- bad data ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("rules_law_2021.yaml", "    matter: state_compensation\n", "    matter: bankruptcy\n",
     "unknown code 'bankruptcy'"),
    ("rules_law_2021.yaml", "    summary: 依法请求国家赔偿\n    effective_from: 2022-01-01\n",
     "    summary: 依法请求国家赔偿\n", "missing 'effective_from'"),
    ("rules_law_2021.yaml", "basis: art33", "basis: art99", "unknown basis"),
    ("rules_jiangsu_2025.yaml", "known_count: 2", "known_count: 3", "known_count 3"),
    ("minimum_wage.yaml", "  溧阳市:", "  常熟市:", "unknown district"),
    ("minimum_wage.yaml", "  金坛区:\n    - {tier: 一类", "  金坛区:\n    - {tier: 四类",
     "unknown tier"),
    ("minimum_wage.yaml", "monthly: 2280", "monthly: -1", "positive number"),
    ("texts.yaml", "urgent_path:", "urgent_path_renamed:", "urgent_path"),
    ("rules_changzhou_2022.yaml", "effect: legal_help", "effect: free_for_all",
     "unknown code 'free_for_all'"),
    ("rules_law_2021.yaml", "  - id: law2021.art42.3\n    identities: [migrant_worker]",
     "  - id: law2021.art42.3\n    identities: [migrant_worker, graduate]", "no proof listed"),
    ("rules_law_2021.yaml", "id: law2021.art31.3", "id: law2021.art31.2", "duplicate rule ids"),
])
def test_bad_data_is_refused_with_a_clear_message(tmp_path: Path, file: str, old: str, new: str,
                                                  message: str) -> None:
    data = copy_data(tmp_path)
    edit_yaml(data / file, old, new)
    with pytest.raises(RuleDataError, match=message):
        load_rule_book(data)


def test_yaml_syntax_error(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    (data / "texts.yaml").write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleDataError, match="not valid YAML"):
        load_rule_book(data)


def test_data_files_parse_as_plain_yaml() -> None:
    for path in DATA_DIR.glob("*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)

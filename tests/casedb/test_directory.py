from __future__ import annotations

from pathlib import Path

import pytest

from casedb.directory import SAMPLE_DIRECTORY, DirectoryFileError, districts, parse_directory
from casedb.models import OrganisationKind


def test_sample_directory_is_valid_and_marked_as_sample() -> None:
    organisations, errors = parse_directory(SAMPLE_DIRECTORY)
    assert errors == []
    assert organisations and all(o.is_sample for o in organisations)
    kinds = {o.kind for o in organisations}
    assert {OrganisationKind.LEGAL_AID_CENTRE, OrganisationKind.NOTARY_OFFICE,
            OrganisationKind.CONTACT_POINT} <= kinds


def test_short_district_names_map_to_canonical_ones() -> None:
    assert districts()["武进"] == "武进区"
    assert districts()["溧阳"] == "溧阳市"
    assert districts()["常州市"] == "市级"


def test_csv_reports_every_bad_row_by_line(tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text(
        "code,kind,name,district,address,phone\n"
        "A1,notary_office,甲公证处,武进,示例路1号,0519-1\n"
        "A2,bakery,乙,武进区,示例路2号,\n"
        "A1,notary_office,丙公证处,火星区,示例路3号,\n"
        "A4,contact_point,,天宁区,示例路4号,\n",
        encoding="utf-8")
    organisations, errors = parse_directory(path)
    assert [(e.line, e.message) for e in errors] == [
        (3, "unknown kind 'bakery'"),
        (4, "unknown district '火星区'"),
        (4, "duplicate code 'A1' (first on line 2)"),
        (5, "missing name"),
    ]
    assert organisations[0].district == "武进区"


def test_yaml_errors_name_the_line_of_the_row(tmp_path: Path) -> None:
    path = tmp_path / "dir.yaml"
    path.write_text(
        "organisations:\n"
        "  - {code: X1, kind: notary_office, name: 甲, district: 新北区, address: 路1号}\n"
        "  - code: X2\n"
        "    kind: notary_office\n"
        "    name: 乙\n"
        "    district: 新北区\n"
        "    colour: red\n",
        encoding="utf-8")
    _, errors = parse_directory(path)
    assert [str(e) for e in errors] == [
        "line 3: missing address", "line 3: unknown field(s) colour"]


def test_unreadable_yaml_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "dir.yaml"
    path.write_text("organisations: [\n", encoding="utf-8")
    with pytest.raises(DirectoryFileError, match="not valid YAML"):
        parse_directory(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text("code,kind,name,district,address\n", encoding="utf-8")
    _, errors = parse_directory(path)
    assert [e.message for e in errors] == ["no organisations in file"]

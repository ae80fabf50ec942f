from __future__ import annotations

from pathlib import Path

import pytest

from casedb.directory import (
    SAMPLE_DIRECTORY,
    DirectoryFileError,
    contact_point_details,
    districts,
    parse_directory,
)
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


def test_sample_contact_points_carry_booking_details() -> None:
    organisations, _ = parse_directory(SAMPLE_DIRECTORY)
    points = [o for o in organisations if o.kind is OrganisationKind.CONTACT_POINT]
    details = [contact_point_details(o) for o in points]
    assert points and all(d is not None for d in details)
    wujin = contact_point_details(next(o for o in points if o.code == "CP-WJ-HT"))
    assert wujin is not None and wujin.park and wujin.capacity == 2
    assert [t.topic for t in wujin.topics] == ["labour", "contract", "ip",
                                                "corporate_governance"]
    assert {h.weekday for h in wujin.hours} == {0, 1, 2, 3, 4}


def test_contact_point_details_from_csv_and_their_errors(tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text(
        "code,kind,name,district,address,phone,park,topics,hours,slot_minutes,capacity\n"
        "C1,contact_point,甲联系点,武进,路1号,,高新区,劳动用工;知识产权,"
        "\"周一至周五 09:00-12:00,13:30-17:00\",30,2\n"
        "C2,contact_point,乙联系点,武进,路2号,,,labour;cooking,mon-fri 09:00-08:00,0,x\n"
        "C3,contact_point,丙联系点,武进,路3号,,,labour,,,\n"
        "N1,notary_office,丁公证处,武进,路4号,,,,mon 09:00-10:00,,\n"
        "C4,contact_point,戊联系点,武进,路5号,,,,,,\n",
        encoding="utf-8")
    organisations, errors = parse_directory(path)
    assert [str(e) for e in errors] == [
        "line 3: unknown topic 'cooking'",
        "line 3: hours: '09:00-08:00': closes before it opens",
        "line 3: slot_minutes 0 is not between 5 and 480",
        "line 3: capacity 'x' is not a whole number",
        "line 4: missing hours (a bookable contact point needs topics, hours, slot_minutes "
        "and capacity)",
        "line 4: missing slot_minutes (a bookable contact point needs topics, hours, "
        "slot_minutes and capacity)",
        "line 4: missing capacity (a bookable contact point needs topics, hours, slot_minutes "
        "and capacity)",
        "line 5: hours: only for kind contact_point",
    ]
    first = contact_point_details(organisations[0])
    assert first is not None and [t.topic for t in first.topics] == ["labour", "ip"]
    assert len(first.hours) == 10 and first.park == "高新区"
    assert contact_point_details(organisations[-1]) is None  # listed, not bookable

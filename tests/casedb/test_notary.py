"""Notary offices and their matters: loaded and replaced by the directory import, read back
as domain offices (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from casedb.directory import SAMPLE_DIRECTORY, notary_office_details, parse_directory
from casedb.models import NotaryOffice, NotaryOfficeMatter
from casedb.notary import NotaryRepository, load_offices
from casedb.repositories import DirectoryRepository
from tests.casedb.test_bookings import load_sample
from tests.conftest import Database

SMALL = """\
sample: true
organisations:
  - {code: N1, kind: notary_office, name: 甲公证处, district: 溧阳, address: 路1号,
     notary_hours: "周一至周五 09:00-17:00", notary_matters: [will]}
  - {code: N2, kind: notary_office, name: 乙公证处, district: 金坛区, address: 路2号}
notary_matters:
  - {code: will, documents: [身份证], fee: 按件收取, days: 3, in_person: true,
     for_use_abroad: false}
"""


async def test_sample_offices_are_read_back_with_their_terms(database: Database) -> None:
    await load_sample(database)
    async with database.sessions.begin() as session:
        offices = await NotaryRepository(session).offices()
    assert [o.code for o in offices] == ["NO-CITY", "NO-WJ", "NO-XB"]
    city = offices[0]
    assert city.district == "市级" and city.areas == ("天宁区", "钟楼区", "新北区")
    assert city.is_sample and city.appointment_url and "英语" in city.languages
    assert {p.weekday for p in city.hours} == {0, 1, 2, 3, 4, 5}
    will = city.matters["will"]
    assert will.in_person and will.days <= 15 and will.documents
    assert city.matters["education_abroad"].for_use_abroad
    assert not offices[1].handles("corporate") and offices[2].handles("corporate")
    assert [o.code for o in await load_offices(database.sessions, ["NO-WJ"])] == ["NO-WJ"]


async def test_import_replaces_offices_and_their_terms(database: Database,
                                                       tmp_path: Path) -> None:
    await load_sample(database)
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL, encoding="utf-8")
    organisations, errors = parse_directory(path)
    assert errors == []
    async with database.sessions.begin() as session:
        await DirectoryRepository(session).replace_all(organisations)
    async with database.sessions.begin() as session:
        offices = await NotaryRepository(session).offices()
        matters = (await session.execute(
            select(func.count()).select_from(NotaryOfficeMatter))).scalar_one()
        details = (await session.execute(
            select(func.count()).select_from(NotaryOffice))).scalar_one()
    # N2 is listed without finder details; the sample's 43 matter rows are gone.
    assert [o.code for o in offices] == ["N1"] and (details, matters) == (1, 1)
    assert offices[0].district == "溧阳市" and offices[0].matters["will"].fee == "按件收取"


def test_every_sample_notary_office_is_in_the_finder() -> None:
    organisations, _ = parse_directory(SAMPLE_DIRECTORY)
    offices = [o for o in organisations if o.kind.value == "notary_office"]
    assert offices and all(notary_office_details(o) is not None for o in offices)


def test_notary_details_and_catalog_errors_name_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(
        "organisations:\n"
        "  - {code: N1, kind: notary_office, name: 甲, district: 武进, address: 路1号,\n"
        "     notary_hours: \"mon-fri 09:00-08:00\", notary_matters: [will, contract],\n"
        "     notary_areas: [火星区], appointment_url: ftp://x}\n"
        "  - {code: N2, kind: notary_office, name: 乙, district: 武进, address: 路2号,\n"
        "     notary_matters: [will]}\n"
        "  - {code: L1, kind: legal_aid_centre, name: 丙, district: 武进, address: 路3号,\n"
        "     languages: [英语]}\n"
        "notary_matters:\n"
        "  - {code: will, documents: [身份证], fee: 按件, days: 3, in_person: false,\n"
        "     for_use_abroad: false}\n"
        "  - {code: cooking, documents: [], fee: '', days: 20, in_person: x,\n"
        "     for_use_abroad: false}\n",
        encoding="utf-8")
    _, errors = parse_directory(path)
    assert [str(e) for e in errors] == [
        "line 10: notary_matters: in_person: will must be done in person "
        "(公证法 Art. 26: 遗嘱、生存、收养关系等应当由本人办理)",
        "line 12: notary_matters: unknown notary matter 'cooking' (known: education_abroad, "
        "no_criminal_record, kinship, birth, marital_status, survival, contract, "
        "inheritance, will, power_of_attorney, declaration, evidence_preservation, escrow, "
        "debt_enforcement, corporate, copy_signature)",
        "line 12: notary_matters: documents: expected a non-empty list",
        "line 12: notary_matters: missing fee (the fee basis)",
        "line 12: notary_matters: days 20 is not a whole number from 1 to 15 "
        "(公证法 Art. 30: 十五个工作日内)",
        "line 12: notary_matters: in_person 'x' is not true or false",
        "line 2: notary_hours: '09:00-08:00': closes before it opens",
        "line 2: notary matter 'will' is not in the file's notary_matters",
        "line 2: notary matter 'contract' is not in the file's notary_matters",
        "line 2: notary_areas: unknown district '火星区'",
        "line 2: appointment_url 'ftp://x' is not a web address",
        "line 5: missing notary_hours (a notary office in the finder needs notary_hours and "
        "notary_matters)",
        "line 7: languages: only for kind notary_office",
    ]

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from casedb.engine import create_engine, session_factory
from casedb.models import OrganisationKind
from casedb.repositories import ContactPointRepository, DirectoryRepository
from gateway.cli import main


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def counts(url: str) -> dict[OrganisationKind, int]:
    async def read() -> dict[OrganisationKind, int]:
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            result = await DirectoryRepository(session).counts_by_kind()
        await engine.dispose()
        return result
    return asyncio.run(read())


def test_upgrade_then_sample_then_import(db_env: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0  # idempotent
    assert main(["directory", "sample"]) == 0
    assert counts(db_env)[OrganisationKind.NOTARY_OFFICE] == 3
    assert main(["directory", "sample"]) == 0
    assert "already loaded" in capsys.readouterr().out

    good = tmp_path / "real.csv"
    good.write_text("code,kind,name,district,address,phone\n"
                    "N1,notary_office,甲公证处,武进,示例路1号,0519-1\n", encoding="utf-8")
    assert main(["directory", "import", str(good)]) == 0
    assert counts(db_env)[OrganisationKind.NOTARY_OFFICE] == 1
    assert counts(db_env)[OrganisationKind.CONTACT_POINT] == 0


def test_a_bad_file_loads_nothing_and_names_the_lines(
        db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["directory", "sample"]) == 0
    before = counts(db_env)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,kind,name,district,address\n"
                   "N1,notary_office,甲公证处,武进区,示例路1号\n"
                   "N2,notary_office,乙公证处,月球区,示例路2号\n", encoding="utf-8")
    assert main(["directory", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing was loaded" in err
    assert f"{bad}:line 3: unknown district '月球区'" in err
    assert counts(db_env) == before
    assert main(["directory", "import", str(tmp_path / "missing.csv")]) == 1


def test_bad_configuration_is_reported(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "eighty")
    assert main(["db", "upgrade"]) == 2
    assert "GATEWAY_PORT must be an integer" in capsys.readouterr().err


def test_import_yaml_with_contact_point_details(db_env: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    good = tmp_path / "points.yaml"
    good.write_text(
        "source: 常州市司法局 2026-11\n"
        "organisations:\n"
        "  - {code: CP1, kind: contact_point, name: 甲联系点, district: 新北, address: 路1号,\n"
        "     park: 综保区, topics: [涉外贸易与贸易救济, contract],\n"
        "     hours: 'mon-fri 09:00-12:00',\n"
        "     slot_minutes: 60, capacity: 1}\n", encoding="utf-8")
    assert main(["directory", "import", str(good)]) == 0

    async def points() -> list[tuple[str, list[str], int]]:
        engine = create_engine(db_env)
        async with session_factory(engine)() as session:
            rows = await ContactPointRepository(session).list()
            result = [(p.organisation.code, [t.topic for t in p.topics], len(p.hours))
                      for p in rows]
        await engine.dispose()
        return result
    assert asyncio.run(points()) == [("CP1", ["contract", "foreign_trade"], 5)]

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "organisations:\n"
        "  - {code: CP1, kind: contact_point, name: 甲, district: 新北, address: 路1号,\n"
        "     topics: [labour], hours: 'someday 9-5', slot_minutes: 30, capacity: 1}\n",
        encoding="utf-8")
    assert main(["directory", "import", str(bad)]) == 1
    assert "line 2: hours: 'someday': expected weekdays" in capsys.readouterr().err
    assert len(asyncio.run(points())) == 1

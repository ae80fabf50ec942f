"""`legalbot staff add` reads the password from stdin and stores only its argon2 hash."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from casedb.engine import create_engine, session_factory
from casedb.handoff import StaffRepository
from casedb.models import StaffRole, StaffUser
from gateway.cli import main
from gateway.console.auth import verify_password


def _read(url: str, name: str) -> StaffUser | None:
    async def read() -> StaffUser | None:
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            user = await StaffRepository(session).by_name(name)
        await engine.dispose()
        return user
    return asyncio.run(read())


def test_staff_add_hashes_the_password_from_stdin(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert main(["staff", "add", "wang", "--role", "supervisor", "--team", "legal_aid"]) == 0
    assert "added wang (supervisor, legal_aid)" in capsys.readouterr().out
    user = _read(url, "wang")
    assert user is not None and (user.role, user.team) == (StaffRole.SUPERVISOR, "legal_aid")
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough secret" not in user.password_hash
    assert verify_password(user.password_hash, "a long enough secret")
    assert not verify_password(user.password_hash, "a long enough secreT")

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert main(["staff", "add", "wang", "--team", "notary"]) == 1
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "add", "li", "--team", "notary"]) == 1
    assert _read(url, "li") is None
    with pytest.raises(SystemExit):
        main(["staff", "add", "li", "--team", "no_such_team"])

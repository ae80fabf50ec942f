"""`legalbot staff add NAME --role staff|supervisor --team TEAM`: the password comes from stdin.

Reading the password from standard input (one line) keeps it out of the shell history and the
process list: `read -s PW; echo "$PW" | legalbot staff add wang --role staff --team legal_aid`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from sqlalchemy.exc import IntegrityError

from casedb.engine import create_engine, session_factory
from casedb.handoff import Actor, AuditRepository, StaffRepository
from casedb.models import StaffRole
from gateway.console.auth import hash_password
from gateway.handoff import teams
from gateway.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser("staff", help="staff console accounts")
    ssub = staff.add_subparsers(dest="action", required=True)
    add = ssub.add_parser("add", help="add a member of staff; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in StaffRole], default="staff")
    add.add_argument("--team", choices=sorted(teams()), required=True)


async def run(settings: Settings, args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        print("password (then Enter): ", end="", file=sys.stderr, flush=True)
    password = stdin.readline().rstrip("\r\n")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        print(f"legalbot: {exc}", file=sys.stderr)
        return 1
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        async with session_factory(engine).begin() as session:
            user = await StaffRepository(session).add(args.name, password_hash,
                                                      StaffRole(args.role), args.team)
            await AuditRepository(session).record(Actor(None, "cli"), "staff_add",
                                                  detail={"name": args.name, "role": args.role,
                                                          "team": args.team})
    except IntegrityError:
        print(f"legalbot: staff {args.name!r} already exists", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"added {user.username} ({user.role.value}, {user.team})")
    return 0

"""`legalbot`: the service command line (serve, database, directory, readiness)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from casedb import migrate, retention
from casedb.directory import SAMPLE_DIRECTORY, DirectoryFileError, parse_directory
from casedb.engine import create_engine, session_factory
from casedb.models import Organisation
from casedb.repositories import DirectoryRepository
from gateway import logs
from gateway.app import create_app
from gateway.console import staff_cli
from gateway.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="legalbot", description="法律服务助手 service commands")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the gateway")
    db = sub.add_parser("db", help="case database")
    db.add_argument("action", choices=["upgrade"])
    directory = sub.add_parser("directory", help="organisation directory")
    dsub = directory.add_subparsers(dest="action", required=True)
    imp = dsub.add_parser("import", help="validate a CSV or YAML file and replace the directory")
    imp.add_argument("file", type=Path)
    sample = dsub.add_parser("sample", help="load the sample directory if the directory is empty")
    sample.add_argument("--force", action="store_true", help="replace a non-empty directory")
    staff_cli.add_parser(sub)
    retention = sub.add_parser("retention", help="delete old message logs (open cases kept)")
    retention.add_argument("action", choices=["run"])
    retention.add_argument("--days", type=int, default=None,
                           help="keep this many days (default: RETENTION_DAYS)")
    ready = sub.add_parser("wait-ready", help="wait until /readyz answers 200")
    ready.add_argument("--timeout", type=float, default=300.0)
    ready.add_argument("--announce", action="store_true",
                       help="print the URLs when ready and keep running (for the Procfile)")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"legalbot: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if args.command == "serve":
        logs.configure(settings.log_level, settings.log_format, service="gateway")
        try:
            app = create_app(settings)
        except SettingsError as exc:
            print(f"legalbot: configuration error: {exc}", file=sys.stderr)
            return 2
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
        return 0
    if args.command == "db":
        asyncio.run(_upgrade(settings))
        print("database is at the latest revision")
        return 0
    if args.command == "directory":
        path = SAMPLE_DIRECTORY if args.action == "sample" else args.file
        organisations = _read_directory(path)
        if organisations is None:
            return 1
        only_if_empty = args.action == "sample" and not args.force
        return asyncio.run(_load_directory(settings, path, organisations, only_if_empty))
    if args.command == "staff":
        return asyncio.run(staff_cli.run(settings, args))
    if args.command == "wait-ready":
        return asyncio.run(_wait_ready(settings, args.timeout, args.announce))
    if args.command == "retention":
        return asyncio.run(_retention(settings, args.days or settings.retention_days))
    return 2


async def _retention(settings: Settings, days: int) -> int:
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        async with session_factory(engine).begin() as session:
            result = await retention.purge(session, days=days)
    finally:
        await engine.dispose()
    print(f"deleted {result.messages} messages and {result.outbox} outbox rows from before "
          f"{result.cutoff:%Y-%m-%d} (open cases kept)")
    return 0


async def _upgrade(settings: Settings) -> None:
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _read_directory(path: Path) -> list[Organisation] | None:
    """The validated rows of a directory file, or None after printing every problem."""
    if not path.is_file():
        print(f"legalbot: no such file: {path}", file=sys.stderr)
        return None
    try:
        organisations, errors = parse_directory(path)
    except DirectoryFileError as exc:
        errors = exc.errors
    if errors:
        print(f"{path}: {len(errors)} problem(s), nothing was loaded:", file=sys.stderr)
        for error in errors:
            print(f"  {path}:{error}", file=sys.stderr)
        return None
    return organisations


async def _load_directory(settings: Settings, path: Path, organisations: list[Organisation],
                          only_if_empty: bool) -> int:
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        async with session_factory(engine).begin() as session:
            repo = DirectoryRepository(session)
            if only_if_empty and any((await repo.counts_by_kind()).values()):
                print("directory already loaded; sample data not loaded (use --force)")
                return 0
            count = await repo.replace_all(organisations)
    finally:
        await engine.dispose()
    print(f"loaded {count} organisations from {path}")
    return 0


async def _wait_ready(settings: Settings, limit_s: float, announce: bool) -> int:
    base = f"http://{settings.host}:{settings.port}"
    deadline = time.monotonic() + limit_s
    last = ""
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"{base}/readyz",
                                    timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status == 200:
                        break
                    last = await resp.text()
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = str(exc)
            await asyncio.sleep(1)
        else:
            print(f"legalbot: not ready after {limit_s:.0f}s: {last}", file=sys.stderr)
            return 1
    if announce:
        print(f"\n  法律服务助手 is ready.\n  Web chat:      {base}/\n"
              f"  Staff console: {base}/console\n  Press Ctrl-C to stop.\n", flush=True)
        await asyncio.Event().wait()  # honcho stops everything when one process exits
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Directory import: validate a whole YAML or CSV file, then replace the directory at once.

Every row is checked before anything is written; a file with one bad row loads nothing and the
error names the row's line in the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from casedb.models import Organisation, OrganisationKind

DATA = Path(__file__).parent / "data"
SAMPLE_DIRECTORY = Path(__file__).parent / "sample" / "directory.yaml"
REQUIRED = ("code", "kind", "name", "district", "address")
OPTIONAL = ("phone",)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class DirectoryFileError(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@cache
def districts() -> dict[str, str]:
    """Every accepted spelling → canonical district name (the city-wide level included)."""
    data = yaml.safe_load((DATA / "districts.yaml").read_text(encoding="utf-8"))
    names: dict[str, str] = {data["city_wide"]: data["city_wide"], data["city"]: data["city_wide"]}
    for canonical, aliases in data["districts"].items():
        names[canonical] = canonical
        for alias in aliases:
            names[alias] = canonical
    return names


def parse_directory(path: Path) -> tuple[list[Organisation], list[RowError]]:
    """Parse and validate a directory file; returns the rows and every error found."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any]
    if path.suffix.lower() == ".csv":
        rows, meta = _csv_rows(text), {}
    elif path.suffix.lower() in (".yaml", ".yml"):
        rows, meta = _yaml_rows(text)
    else:
        raise DirectoryFileError([RowError(0, f"unsupported file type {path.suffix!r}")])
    is_sample = bool(meta.get("sample", False))
    source = str(meta.get("source") or path.name)
    organisations: list[Organisation] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        problems = _validate(row)
        code = str(row.get("code") or "").strip()
        if code and code in seen:
            problems.append(f"duplicate code {code!r} (first on line {seen[code]})")
        seen.setdefault(code, line)
        if problems:
            errors.extend(RowError(line, p) for p in problems)
            continue
        organisations.append(Organisation(
            code=code,
            kind=OrganisationKind(row["kind"]),
            name=str(row["name"]).strip(),
            district=districts()[str(row["district"]).strip()],
            address=str(row["address"]).strip(),
            phone=(str(row["phone"]).strip() or None) if row.get("phone") else None,
            is_sample=is_sample,
            source=source,
        ))
    if not rows:
        errors.append(RowError(0, "no organisations in file"))
    return organisations, errors


def _validate(row: dict[str, Any]) -> list[str]:
    problems = [f"missing {field}" for field in REQUIRED if not str(row.get(field) or "").strip()]
    unknown = set(row) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(sorted(unknown))}")
    kind = row.get("kind")
    if kind and kind not in {k.value for k in OrganisationKind}:
        problems.append(f"unknown kind {kind!r}")
    district = str(row.get("district") or "").strip()
    if district and district not in districts():
        problems.append(f"unknown district {district!r}")
    return problems


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    for row in reader:
        clean = {k.strip(): v for k, v in row.items() if k is not None}
        rows.append((reader.line_num, clean))
    return rows


def _yaml_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, Any]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise DirectoryFileError([RowError(line, f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("organisations"), list):
        raise DirectoryFileError([RowError(1, "expected a mapping with an 'organisations' list")])
    assert isinstance(root, yaml.MappingNode)
    items_node = next(v for k, v in root.value if k.value == "organisations")
    rows: list[tuple[int, dict[str, Any]]] = []
    for node, item in zip(items_node.value, data["organisations"], strict=True):
        line = node.start_mark.line + 1
        rows.append((line, item if isinstance(item, dict) else {"_": item}))
    meta = {k: v for k, v in data.items() if k != "organisations"}
    return rows, meta

"""Where a document for use abroad goes after the notary: Apostille or consular legalisation.

China applies the Apostille Convention since 2023-11-07 (legal.md §3.3): for a member state
the notarised document needs only an 附加证明书 (Apostille); other states still need consular
legalisation. `data/apostille.yaml` lists some states of each kind, unverified (see the file);
a state in neither list gets both routes explained.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).parent / "data"
ABROAD_WORDS = ("出国", "国外", "境外", "海外", "留学", "签证", "涉外", "外国", "移民")


class Status(enum.StrEnum):
    MEMBER = "member"
    NON_MEMBER = "non_member"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Destination:
    country: str
    status: Status


@functools.cache
def _names() -> dict[str, Destination]:
    data = yaml.safe_load((DATA_DIR / "apostille.yaml").read_text(encoding="utf-8"))
    names: dict[str, Destination] = {}
    for key, status in (("members", Status.MEMBER), ("non_members", Status.NON_MEMBER)):
        for country in data[key]:
            names[country] = Destination(country, status)
    for country, aliases in (data.get("aliases") or {}).items():
        for alias in aliases:
            names[alias] = names[country]
    return names


def destination(text: str) -> Destination | None:
    """The first listed state named in `text`, if any."""
    found = [(text.find(name), name) for name in _names() if name in text]
    return _names()[min(found)[1]] if found else None


def for_use_abroad(text: str) -> bool:
    return destination(text) is not None or any(word in text for word in ABROAD_WORDS)

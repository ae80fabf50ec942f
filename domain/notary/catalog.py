"""The notary matters the assistant knows, and the terms under which an office handles one.

`data/matters.yaml` is the taxonomy kept with the law (公证法 Arts. 11, 12): each matter's
Chinese name, its NLU `notary_service`, its article, the words that name it, and two legal
flags: `personal` (Art. 26: 遗嘱、生存、收养关系等应当由本人办理) and `property_rule` (Art. 25:
涉及不动产的 goes to where the property lies, except 委托、声明、赠与、遗嘱).

`Terms` are what the bureau's directory file says about a matter (documents to bring, fee
basis, typical time, in person, for use abroad); `check_terms` refuses terms that contradict
the law: a personal matter that an agent could do (Art. 26), a typical time beyond the 15
working days of Art. 30.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"
LEGAL_LIMIT_WORKING_DAYS = 15  # 公证法 Art. 30


@dataclass(frozen=True)
class MatterRule:
    code: str
    name: str
    service: str
    basis: str
    keywords: tuple[str, ...]
    personal: bool = False  # Art. 26: only the person themself may apply
    property_rule: bool = False  # Art. 25: real estate goes to where the property lies
    abroad: bool = False  # normally used abroad


@dataclass(frozen=True)
class Taxonomy:
    matters: Mapping[str, MatterRule]
    defaults: Mapping[str, str | None]  # notary_service value -> matter code (None: ask)
    property_words: tuple[str, ...]
    source: str

    def get(self, code: str | None) -> MatterRule | None:
        return self.matters.get(code) if code else None

    def resolve(self, text: str, service: str | None = None) -> MatterRule | None:
        """The matter a message names: the longest keyword found (earliest on a tie), among
        the matters of `service` when the NLU found one; else the service's default."""
        candidates = [m for m in self.matters.values() if service is None or m.service == service]
        best: tuple[int, int, MatterRule] | None = None
        for matter in candidates:
            for word in matter.keywords:
                at = text.find(word)
                if at >= 0 and (best is None or (-len(word), at) < (best[0], best[1])):
                    best = (-len(word), at, matter)
        if best is not None:
            return best[2]
        if service is not None:
            return self.get(self.defaults.get(service))
        return None

    def mentions_property(self, text: str) -> bool:
        return any(word in text for word in self.property_words)


@functools.cache
def taxonomy() -> Taxonomy:
    data = yaml.safe_load((DATA_DIR / "matters.yaml").read_text(encoding="utf-8"))
    matters = {
        code: MatterRule(code=code, name=str(item["name"]), service=str(item["service"]),
                         basis=str(item["basis"]),
                         keywords=tuple(str(k) for k in item.get("keywords") or ()),
                         personal=bool(item.get("personal", False)),
                         property_rule=bool(item.get("property_rule", False)),
                         abroad=bool(item.get("abroad", False)))
        for code, item in data["matters"].items()
    }
    defaults = {str(k): (str(v) if v else None) for k, v in data["defaults"].items()}
    return Taxonomy(matters, defaults, tuple(data["property_words"]), str(data["source"]))


@dataclass(frozen=True)
class Terms:
    """How an office handles one matter, as the directory file states it."""

    matter: str
    documents: tuple[str, ...]
    fee: str  # the fee basis (收费依据), not an amount we could not verify
    days: int  # typical working days until the certificate
    in_person: bool  # the person must come themself (always true for Art. 26 matters)
    for_use_abroad: bool


TERMS_FIELDS = ("code", "documents", "fee", "days", "in_person", "for_use_abroad")


def check_terms(item: Mapping[str, Any]) -> tuple[Terms | None, list[str]]:
    """Read one `notary_matters` entry of a directory file; problems are English, for staff."""
    problems: list[str] = []
    code = str(item.get("code") or "").strip()
    unknown = set(item) - set(TERMS_FIELDS)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(sorted(unknown))}")
    rule = taxonomy().get(code)
    if rule is None:
        problems.append(f"unknown notary matter {code!r} (known: "
                        f"{', '.join(taxonomy().matters)})")
    documents = item.get("documents")
    if not isinstance(documents, list) or not all(str(d).strip() for d in documents) \
            or not documents:
        problems.append("documents: expected a non-empty list")
        documents = []
    fee = str(item.get("fee") or "").strip()
    if not fee:
        problems.append("missing fee (the fee basis)")
    days = item.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or \
            not 1 <= days <= LEGAL_LIMIT_WORKING_DAYS:
        problems.append(f"days {days!r} is not a whole number from 1 to "
                        f"{LEGAL_LIMIT_WORKING_DAYS} (公证法 Art. 30: 十五个工作日内)")
    flags: dict[str, bool] = {}
    for name in ("in_person", "for_use_abroad"):
        value = item.get(name)
        if not isinstance(value, bool):
            problems.append(f"{name} {value!r} is not true or false")
        flags[name] = bool(value)
    if rule is not None and rule.personal and item.get("in_person") is False:
        problems.append(f"in_person: {code} must be done in person "
                        f"(公证法 Art. 26: 遗嘱、生存、收养关系等应当由本人办理)")
    if problems:
        return None, problems
    assert isinstance(days, int)
    return Terms(matter=code, documents=tuple(str(d).strip() for d in documents), fee=fee,
                 days=days, in_person=flags["in_person"],
                 for_use_abroad=flags["for_use_abroad"]), []

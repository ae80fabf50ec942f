"""Which legal aid matter a free-text description is about, from keyword patterns.

A fallback for when the NLU found no `matter_type` entity: people write "公司拖欠我三个月工资",
where the words of the matter stand apart. The patterns are data
(`data/matter_keywords.yaml`), ordered so that the first match wins.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from domain.legal_aid.codes import MatterType

KEYWORDS = Path(__file__).parent / "data" / "matter_keywords.yaml"


@cache
def _patterns() -> tuple[tuple[MatterType, re.Pattern[str]], ...]:
    data = yaml.safe_load(KEYWORDS.read_text(encoding="utf-8"))
    return tuple((MatterType(entry["matter"]), re.compile("|".join(entry["patterns"])))
                 for entry in data["matters"])


def guess_matter(text: str) -> MatterType | None:
    """The first matter whose patterns match `text`, or None."""
    compact = re.sub(r"\s+", "", text)
    for matter, pattern in _patterns():
        if pattern.search(compact):
            return matter
    return None

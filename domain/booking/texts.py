"""The Chinese sentences of the booking domain (`data/texts.yaml`) and date formatting."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"


class Texts:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get(self, key: str, **values: Any) -> str:
        """The sentence at dotted `key`, filled with `values` (a missing one raises)."""
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"texts.yaml has no {key!r}")
            node = node[part]
        if not isinstance(node, str):
            raise KeyError(f"texts.yaml {key!r} is not a sentence")
        return node.strip().format(**values)

    def mapping(self, key: str) -> dict[str, str]:
        node = self.data.get(key)
        if not isinstance(node, dict):
            raise KeyError(f"texts.yaml {key!r} is not a mapping")
        return {str(k): str(v) for k, v in node.items()}

    def weekday(self, index: int) -> str:
        return str(self.data["weekdays"][index])

    def holiday(self, english: str | None) -> str:
        if english is None:
            return "法定节假日"
        return self.mapping("holidays").get(english, english)

    def topic(self, code: str) -> str:
        return self.mapping("topics").get(code, code)

    def day(self, moment: datetime) -> str:
        return f"{moment.month}月{moment.day}日"

    def slot(self, start: datetime, *, now: datetime | None = None) -> str:
        """"12月3日(周四)14:30"; the year is added when it is not the year of `now`."""
        values = dict(date=self.day(start), weekday=self.weekday(start.weekday()),
                      time=f"{start:%H:%M}", year=start.year)
        if now is not None and now.year != start.year:
            return self.get("slot_with_year", **values)
        return self.get("slot", **values)


@functools.cache
def texts() -> Texts:
    data = yaml.safe_load((DATA_DIR / "texts.yaml").read_text(encoding="utf-8"))
    return Texts(data)

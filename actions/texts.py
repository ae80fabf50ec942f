"""The texts custom actions send, from actions/data/texts.yaml."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEXTS = Path(__file__).parent / "data" / "texts.yaml"


@cache
def _texts() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    return data


def _lookup(key: str) -> Any:
    """`a.b.c` walks nested mappings; a missing key is a programming error (KeyError)."""
    node: Any = _texts()
    for part in key.split("."):
        node = node[part]
    return node


def text(key: str, **values: Any) -> str:
    """The text for `key`, with `{placeholders}` filled from `values`."""
    return str(_lookup(key)).format(**values)


def buttons(key: str) -> list[dict[str, str]]:
    return [dict(b) for b in _lookup(key)]

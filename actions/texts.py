"""The texts custom actions send: actions/data/texts.yaml, and one more file per capability
that keeps its own (actions/data/handoff.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data"
TEXTS = DATA / "texts.yaml"


class TextFile:
    """One YAML file of texts, read once; `a.b.c` keys walk its nested mappings."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        return self._data

    def lookup(self, key: str) -> Any:
        """A missing key is a programming error (KeyError)."""
        node: Any = self.data()
        for part in key.split("."):
            node = node[part]
        return node

    def text(self, key: str, **values: Any) -> str:
        """The text for `key`, with `{placeholders}` filled from `values`."""
        return str(self.lookup(key)).format(**values)


_TEXTS = TextFile(TEXTS)
_lookup = _TEXTS.lookup
text = _TEXTS.text


def buttons(key: str) -> list[dict[str, str]]:
    return [dict(b) for b in _lookup(key)]

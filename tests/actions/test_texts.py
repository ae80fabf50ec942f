from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from actions.handoff import handoff_data
from actions.texts import _lookup

ACTIONS = Path(__file__).resolve().parents[2] / "actions"


def used_keys(function: str) -> set[str]:
    """The text keys passed to `function` anywhere in the actions package."""
    keys = set()
    for path in ACTIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        keys.update(re.findall(rf'(?<![a-z_]){function}\(\s*f?"([a-z0-9_.]+)', source))
    return keys


def test_every_text_key_the_actions_use_exists() -> None:
    keys = used_keys("text") | used_keys("text_buttons")
    assert keys, "no text keys found: the pattern is wrong"
    for key in sorted(keys):
        if key.endswith("."):  # an f-string prefix such as "legal_aid.headline."
            assert isinstance(_lookup(key.rstrip(".")), dict), key
        else:
            _lookup(key)


def test_every_handoff_text_key_exists() -> None:
    keys = used_keys("handoff_text")
    assert keys, "no handoff text keys found: the pattern is wrong"
    for key in sorted(keys):
        node: Any = handoff_data()
        for part in key.rstrip(".").split("."):
            node = node[part]

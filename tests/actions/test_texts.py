from __future__ import annotations

import re
from pathlib import Path

from actions.texts import _lookup

ACTIONS = Path(__file__).resolve().parents[2] / "actions"


def test_every_text_key_the_actions_use_exists() -> None:
    keys = set()
    for path in ACTIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        keys.update(re.findall(r'(?:text|text_buttons)\(\s*f?"([a-z0-9_.]+)', source))
    assert keys, "no text keys found: the pattern is wrong"
    for key in sorted(keys):
        if key.endswith("."):  # an f-string prefix such as "legal_aid.headline."
            assert isinstance(_lookup(key.rstrip(".")), dict), key
        else:
            _lookup(key)

"""The conversation tests in bot/tests are distinct: `rasa test core` merges stories whose steps
are identical, so a copy only inflates the count `make eval` reports (86 listed, 82 run, until
session 16 removed four copies)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

STORIES = Path(__file__).resolve().parents[2] / "bot" / "tests"


def stories() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for path in sorted(STORIES.glob("*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8")).get("stories") or []:
            found.append((f"{path.name}: {story['story']}", story["steps"]))
    return found


def test_no_two_conversation_tests_have_the_same_steps() -> None:
    by_steps: dict[str, list[str]] = defaultdict(list)
    for name, steps in stories():
        by_steps[json.dumps(steps, ensure_ascii=False, sort_keys=True)].append(name)
    copies = [names for names in by_steps.values() if len(names) > 1]
    assert copies == []
    assert len(by_steps) >= 40  # the issue asks for at least 40

"""The NLU training data and the held-out set (nlu_data/test) stay apart and well formed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import yaml

NLU = Path(__file__).resolve().parents[1] / "nlu_data"
MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")
PUNCTUATION = re.compile(r"[\s,，。.!！?？、~～]+")


def examples(paths: list[Path]) -> list[tuple[str, str]]:
    """(intent, plain text) of every intent example in `paths`; entity markup removed."""
    found: list[tuple[str, str]] = []
    for path in paths:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue  # synonyms, lookups, regexes
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append((block["intent"], MARKUP.sub(r"\1", line[2:])))
    return found


def normal(text: str) -> str:
    return PUNCTUATION.sub("", text).lower()


TRAIN = examples(sorted(p for p in NLU.glob("*.yml")))
HELD_OUT = examples(sorted((NLU / "test").glob("*.yml")))


def test_no_held_out_example_is_trained_on() -> None:
    trained = {normal(text) for _, text in TRAIN}
    leaked = [text for _, text in HELD_OUT if normal(text) in trained]
    assert leaked == []


def test_no_training_example_has_two_intents() -> None:
    labels: dict[str, set[str]] = {}
    for intent, text in TRAIN:
        labels.setdefault(normal(text), set()).add(intent)
    assert {text: found for text, found in labels.items() if len(found) > 1} == {}


def test_enough_examples_per_intent() -> None:
    small_talk = {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge"}
    train = Counter(intent.split("/")[0] if not intent.startswith("faq/") else intent
                    for intent, _ in TRAIN)
    held_out = Counter(intent.split("/")[0] for intent, _ in HELD_OUT)
    for intent, count in train.items():
        if intent.startswith("faq/"):
            assert count >= 10, intent
        else:
            assert count >= (15 if intent in small_talk else 40), intent
    for intent in {i.split("/")[0] for i in train}:
        assert held_out[intent] >= 15, intent

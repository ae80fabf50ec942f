"""Texts the gateway itself says (everything else comes from the Rasa domain)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

TEMPLATES = Path(__file__).parent / "templates" / "replies.yaml"


@cache
def _texts() -> dict[str, str]:
    data = yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))
    return {str(k): str(v).strip() for k, v in data.items()}


def reply(key: str) -> str:
    """The Chinese text for `key`; a missing key is a programming error (KeyError)."""
    return _texts()[key]

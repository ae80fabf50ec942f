"""Running a script in the Rasa environment (.venv-rasa, Python 3.10), where Rasa, our NLU
components and scripts/tune.py live, from tests that run on Python 3.11."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(script: str) -> dict[str, Any]:
    """Run `script` with the Rasa environment's Python in the project root; return the JSON
    object the script prints on its last line."""
    assert RASA_PYTHON.is_file(), "no Rasa environment: `make venvs` (make test does) builds it"
    done = subprocess.run([str(RASA_PYTHON), "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result

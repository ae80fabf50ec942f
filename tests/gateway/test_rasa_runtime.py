"""`python -m gateway.rasa_runtime rasa ...`: the Rasa launcher. The validator part runs in the
Rasa environment (.venv-rasa, Python 3.10), where Rasa and jsonschema live."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from gateway.rasa_runtime import main

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

# Run by the Rasa environment's Python: the same responses through Rasa's own check and the
# prebuilt one; prints what each said.
SCRIPT = """
import json
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from gateway.rasa_runtime import build_action_response_validator

action = RemoteAction("action_check", None)
responses = {
    "good": {"events": [{"event": "slot", "name": "district", "value": "武进区"},
                        {"event": "active_loop", "name": "booking_form"}],
             "responses": [{"text": "好的", "buttons": [{"title": "是", "payload": "/affirm"}]}]},
    "unknown_event": {"events": [{"event": "no_such_event"}]},
    "events_not_a_list": {"events": {"event": "slot"}},
    "response_not_an_object": {"responses": ["好的"]},
}

def verdicts():
    out = {}
    for name, response in responses.items():
        try:
            out[name] = ["ok", action._validate_action_result(response)]
        except ValidationError as exc:
            out[name] = ["error", exc.message]
    return out

before = verdicts()
build_action_response_validator()
build_action_response_validator()  # twice is harmless
print(json.dumps({"before": before, "after": verdicts(),
                  "prebuilt": getattr(RemoteAction._validate_action_result, "prebuilt", False)}))
"""


def test_the_launcher_needs_the_rasa_command() -> None:
    assert main([]) == 2 and main(["shell"]) == 2


def test_the_prebuilt_validator_judges_responses_as_rasa_does() -> None:
    assert RASA_PYTHON.is_file(), "no Rasa environment: `make train` (make test does) builds it"
    done = subprocess.run([str(RASA_PYTHON), "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["prebuilt"] is True
    assert result["after"] == result["before"]
    assert result["before"]["good"] == ["ok", True]
    for name in ("unknown_event", "events_not_a_list", "response_not_an_object"):
        verdict, message = result["after"][name]
        assert verdict == "error"
        assert "Failed to validate Action server response" in message  # Rasa's own message

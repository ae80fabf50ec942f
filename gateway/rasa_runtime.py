"""How the Rasa process starts: `python -m gateway.rasa_runtime rasa run ARGS...`.

The Procfile, `make bench` (bench/stack.py) and deploy/Dockerfile.rasa start Rasa this way.
Before Rasa's own CLI takes over, two things are put in place:

- every log record is masked as it is created (`gateway.masking.install_record_factory`),
  whatever handlers Rasa installs later;
- action server responses are checked by a JSON schema validator built once. Rasa 3.6 calls
  `jsonschema.validate` for every response, and that checks the schema itself against the
  meta-schema and builds a new validator each time: 30-60 ms of CPU per action call here, a
  quarter of the Rasa process's time under load (py-spy during `make bench`). The check is the
  same; a response that fails it goes to Rasa's own method, which raises Rasa's own error.

The standard library only at import time: this runs in the Rasa runtime (Python 3.10), which
never imports the service's dependencies.
"""

from __future__ import annotations

import sys
from typing import Any

from gateway.masking import install_record_factory


def build_action_response_validator() -> None:
    """Replace `RemoteAction._validate_action_result` with one that reuses a validator."""
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
    from jsonschema.validators import validator_for  # type: ignore[import-untyped]
    from rasa.core.actions.action import RemoteAction  # type: ignore[import-not-found]

    original = RemoteAction._validate_action_result
    if getattr(original, "prebuilt", False):
        return
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # what jsonschema.validate does first, once
    validator = cls(schema)

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return bool(original(self, result))  # raises Rasa's ValidationError and message

    validate_action_result.prebuilt = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result


def main(argv: list[str]) -> int:
    """Run the Rasa CLI (`argv[0]` must be "rasa") with masked logging and the validator."""
    if not argv or argv[0] != "rasa":
        print("usage: python -m gateway.rasa_runtime rasa ARGS...", file=sys.stderr)
        return 2
    install_record_factory()
    build_action_response_validator()
    from rasa.__main__ import main as rasa_main  # type: ignore[import-not-found]

    sys.argv = ["rasa", *argv[1:]]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

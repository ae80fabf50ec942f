"""How the Rasa process starts: `python -m gateway.rasa_runtime rasa run ARGS...`.

The Procfile, `make bench` (bench/stack.py) and deploy/Dockerfile.rasa start Rasa this way.
Before Rasa's own CLI takes over, three things are put in place:

- every log record is masked as it is created (`gateway.masking.install_record_factory`),
  whatever handlers Rasa installs later;
- action server responses are checked by a JSON schema validator built once. Rasa 3.6 calls
  `jsonschema.validate` for every response, and that checks the schema itself against the
  meta-schema and builds a new validator each time: 30-60 ms of CPU per action call here, a
  quarter of the Rasa process's time under load (py-spy during `make bench`). The check is the
  same; a response that fails it goes to Rasa's own method, which raises Rasa's own error;
- a custom action that fails (the action server down or erring) ends the bot's turn. Rasa 3.6
  logs the failure, drops the action's events and goes on predicting, and the policies then
  improvise on a state they never saw (here: "抱歉,我没有理解您的意思", blaming the person).
  Ending the turn leaves it silent, and the gateway answers a silent turn with its apology
  and the offer of a person (tests/e2e/test_faults.py). A form's rejection is not a failure.

The standard library only at import time: this runs in the Rasa runtime (Python 3.10), which
never imports the service's dependencies.
"""

from __future__ import annotations

import contextvars
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


# The names of the custom actions that failed in the current `_run_action`, or None outside it.
_FAILED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "legalbot_failed_actions", default=None)


def end_the_turn_when_an_action_fails() -> None:
    """Make `MessageProcessor._run_action` stop the prediction loop after a failed action."""
    from rasa.core.actions.action import (
        ActionExecutionRejection,
        RemoteAction,
    )
    from rasa.core.processor import MessageProcessor  # type: ignore[import-not-found]

    run_action = MessageProcessor._run_action
    if getattr(run_action, "ends_turn_on_failure", False):
        return
    remote_run = RemoteAction.run

    async def run_remote(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await remote_run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # a form rejecting a slot value: part of the dialogue
        except Exception:
            failed = _FAILED.get()
            if failed is not None:
                failed.append(self.name())
            raise

    async def run_action_or_end_turn(self: Any, *args: Any, **kwargs: Any) -> bool:
        failed: list[str] = []
        token = _FAILED.set(failed)
        try:
            predict_another = bool(await run_action(self, *args, **kwargs))
        finally:
            _FAILED.reset(token)
        return predict_another and not failed

    run_action_or_end_turn.ends_turn_on_failure = True  # type: ignore[attr-defined]
    RemoteAction.run = run_remote
    MessageProcessor._run_action = run_action_or_end_turn


def main(argv: list[str]) -> int:
    """Run the Rasa CLI (`argv[0]` must be "rasa") with the changes above in place."""
    if not argv or argv[0] != "rasa":
        print("usage: python -m gateway.rasa_runtime rasa ARGS...", file=sys.stderr)
        return 2
    install_record_factory()
    build_action_response_validator()
    end_the_turn_when_an_action_fails()
    from rasa.__main__ import main as rasa_main  # type: ignore[import-not-found]

    sys.argv = ["rasa", *argv[1:]]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

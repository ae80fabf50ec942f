"""Legal aid pre-screen (issue 4): rules as data files, a pure engine, no Rasa, no database.

Call `screen(ScreeningInput(...))`; see `domain.legal_aid.engine` for the flow and
`domain/legal_aid/data/` for the rules the bureau maintains.
"""

from domain.legal_aid.codes import (
    CriminalFactor,
    CriminalRole,
    Identity,
    MatterType,
    Outcome,
)
from domain.legal_aid.engine import (
    NEED_ORDER,
    NextStep,
    ScreeningInput,
    ScreeningResult,
    WhereToApply,
    screen,
)
from domain.legal_aid.hardship import Threshold, threshold_for
from domain.legal_aid.rules import RuleBook, RuleDataError, default_rule_book, load_rule_book

__all__ = [
    "NEED_ORDER",
    "CriminalFactor",
    "CriminalRole",
    "Identity",
    "MatterType",
    "NextStep",
    "Outcome",
    "RuleBook",
    "RuleDataError",
    "ScreeningInput",
    "ScreeningResult",
    "Threshold",
    "WhereToApply",
    "default_rule_book",
    "load_rule_book",
    "screen",
    "threshold_for",
]

"""Personal data out of log lines: mobile numbers, ID card numbers (身份证号) and names.

`mask(text)` replaces what it recognises with a placeholder; `MaskingFilter` applies it to the
formatted message (and the exception text) of every log record passing a handler, so a record
is masked whatever logger or library wrote it. Install the filter on handlers, not loggers:
a logger's filters do not see records propagated from child loggers.

Names are found in the usual self-introductions (我叫…, 姓名：…, 本人…) and, exactly, when code
that learns a name (an action filling a form) reports it with `report_names(...)`. Masking is
deliberately greedy: a false positive costs a word in a log line, a miss leaks a person.

The module depends on the standard library only, so the Rasa runtime (Python 3.10) uses it as
well: `python -m gateway.rasa_runtime rasa run ...` (the Procfile) starts Rasa with every log
record masked as it is created (`install_record_factory`), whatever handlers Rasa installs later.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

PHONE_MASK = "<phone>"
ID_MASK = "<id-number>"
NAME_MASK = "<name>"

# 18-digit resident ID (6-digit area, birth date, 3-digit sequence, check digit or X). Any 17
# digits are taken, not only valid birth dates: a mistyped number is still somebody's. Not
# inside a longer run of digits.
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
# Mainland mobile: 1[3-9] and 9 more digits, optionally +86/0086/86 first, optionally split as
# 3-4-4 by spaces or hyphens. Letters may touch it ("tel13812345678"); digits may not.
_PHONE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
# A Chinese name: 2-4 Han characters (a middle dot for minority names), after a
# self-introduction. Whitespace and a colon may sit between them.
_HAN = r"[\u4e00-\u9fff]"
_NAME_AFTER = re.compile(
    r"(?P<lead>我叫|我的名字(?:叫|是)|名字(?:叫|是)|叫做|姓名(?:是|为)?|本人(?:叫|是|系)?|"
    r"我是|申请人(?:是|为)?|联系人(?:是|为)?|当事人(?:是|为)?)"
    r"(?P<sep>\s*[:：]?\s*)"
    rf"(?P<name>{_HAN}(?:[·•]?{_HAN}){{1,3}})")
# JSON-escaped text ("\u6211\u53eb..."), as Rasa logs it: decoded before matching, else a name
# hides in escapes and an ID number after an escape ("\u53f7320402...") seems to continue one.
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_MAX_REPORTED = 10_000
_MIN_REPORTED_LENGTH = 2


class _ReportedNames:
    """Names code has seen, bounded (least recently reported forgotten first), thread-safe."""

    def __init__(self, limit: int = _MAX_REPORTED) -> None:
        self._limit = limit
        self._names: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, names: tuple[str, ...]) -> None:
        with self._lock:
            for raw in names:
                name = raw.strip()
                if len(name) < _MIN_REPORTED_LENGTH:
                    continue
                self._names[name] = None
                self._names.move_to_end(name)
                while len(self._names) > self._limit:
                    self._names.popitem(last=False)
            self._pattern = None

    def clear(self) -> None:
        with self._lock:
            self._names.clear()
            self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._names:
                # Longest first, so "欧阳娜娜" wins over "欧阳".
                alternatives = sorted(self._names, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, alternatives)))
            return self._pattern


_reported = _ReportedNames()


def report_names(*names: str) -> None:
    """Mask these names (exactly) in every later log line of this process."""
    _reported.add(tuple(n for n in names if isinstance(n, str)))


def forget_reported_names() -> None:
    """Drop the reported names (tests)."""
    _reported.clear()


def _unescape(match: re.Match[str]) -> str:
    code = int(match[1], 16)
    return match[0] if 0xD800 <= code <= 0xDFFF else chr(code)  # a surrogate half stays


def mask(text: str) -> str:
    """`text` with mobile numbers, 18-digit ID numbers and names replaced by placeholders."""
    if not text:
        return text
    if "\\u" in text:
        text = _UNICODE_ESCAPE.sub(_unescape, text)
    # ID numbers first: an ID contains digit runs that could look like a phone number.
    text = _ID_NUMBER.sub(ID_MASK, text)
    text = _PHONE.sub(PHONE_MASK, text)
    reported = _reported.pattern()
    if reported is not None:
        text = reported.sub(NAME_MASK, text)
    return _NAME_AFTER.sub(lambda m: f"{m['lead']}{m['sep']}{NAME_MASK}", text)


# What every LogRecord has; anything else came in through `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime"}


class MaskingFilter(logging.Filter):
    """Mask personal data in every record (message, arguments, exception and stack text).

    The record's message is formatted once here and the arguments dropped, so no handler or
    formatter after this one can put an unmasked argument back. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg = mask(message)
        record.args = ()
        # `extra=` fields, which a JSON formatter would emit as they are
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, mask(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


_FILTER = MaskingFilter()


def install_record_factory() -> None:
    """Mask every log record of this process when it is created (for a process whose handlers
    we do not configure: Rasa replaces its root handler with coloredlogs)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_personal_data", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _FILTER.filter(record)
        return record

    factory.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


"""Structured logs: one JSON object per line, each carrying the turn id.

A turn id is made when a request reaches the gateway (`turn_middleware`), goes to Rasa in the
REST message's metadata (`gateway/rasa.py`), reaches the action server inside the tracker's
latest message (`actions/server.py`) and stays with the background task that sends the replies
(asyncio copies the context into tasks), so `grep <turn id>` over every process's log follows
one turn end to end. The gateway answers with it in the `X-Turn-Id` header.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from aiohttp import web

from gateway.masking import MaskingFilter

TURN_HEADER: Final = "X-Turn-Id"
TURN_METADATA_KEY: Final = "turn_id"
MAX_TURN_ID_CHARS: Final = 64

_turn_id: ContextVar[str | None] = ContextVar("turn_id", default=None)

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD_ATTRS: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "turn_id"}


def new_turn_id() -> str:
    return secrets.token_hex(8)


def current_turn_id() -> str | None:
    return _turn_id.get()


def set_turn_id(turn_id: str | None) -> None:
    """Set the turn id of the current context (a request, a task and what it spawns)."""
    _turn_id.set(turn_id)


@contextmanager
def turn(turn_id: str | None = None) -> Iterator[str]:
    """Run the block under `turn_id` (a new one if None), then restore the previous one."""
    value = turn_id or new_turn_id()
    token = _turn_id.set(value)
    try:
        yield value
    finally:
        _turn_id.reset(token)


def valid_turn_id(value: object) -> str | None:
    """A turn id received from another process, if it is a sane one."""
    if isinstance(value, str) and 0 < len(value) <= MAX_TURN_ID_CHARS and value.isprintable():
        return value
    return None


@web.middleware
async def turn_middleware(request: web.Request,
                          handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                          ) -> web.StreamResponse:
    """Give every request a turn id (kept by the background tasks it starts)."""
    with turn() as turn_id:
        response = await handler(request)
        if not response.prepared:  # a websocket or stream has sent its headers already
            response.headers[TURN_HEADER] = turn_id
        return response


class TurnIdFilter(logging.Filter):
    """Puts the current turn id on every record (`record.turn_id`, None outside a turn)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "turn_id"):
            record.turn_id = _turn_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "turn_id", ...extra, "exc"}`, one line, UTC."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self._service:
            out["service"] = self._service
        turn_id = getattr(record, "turn_id", None)
        if turn_id is not None:
            out["turn_id"] = turn_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_text:  # already formatted (and masked by the MaskingFilter)
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(turn_id)s] %(message)s"


def configure(level: str = "INFO", fmt: str = "json", *, service: str | None = None,
              stream: TextIO | None = None) -> logging.Handler:
    """Send the root logger's records to `stream` (stderr) as JSON lines or plain text, with
    the turn id and personal data masked. Replaces handlers configured before."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service) if fmt == "json"
                         else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(TurnIdFilter())
    handler.addFilter(MaskingFilter())  # on the handler: it must see every logger's records
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler

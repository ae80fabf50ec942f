"""Render bot replies for platforms that show plain text only.

* buttons become numbered choices ("1. 法律援助"), and a later reply of "1" picks choice 1;
* long text is split at the platform's limit (characters or UTF-8 bytes), at line or sentence
  ends where possible;
* bubbles are merged where the platform caps the number of messages per turn (WeChat Customer
  Service allows 5 after each customer message).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from connectors.base import Button, OutboundMessage

TEMPLATES = Path(__file__).parent / "templates.yaml"

Measure = Callable[[str], int]


def chars(text: str) -> int:
    return len(text)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


@cache
def _templates() -> dict[str, Any]:
    data = yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def template(key: str, **values: str) -> str:
    """The Chinese text for `key`, formatted with `values`; a missing key is a KeyError."""
    return str(_templates()[key]).strip().format(**values)


def unsupported_reply(kind: str) -> str:
    """The polite reply to a message type the assistant cannot read (voice, image, ...)."""
    kinds: dict[str, str] = _templates()["unsupported_kinds"]
    return template("unsupported", kind=kinds.get(kind, kinds["other"]))


@dataclass(frozen=True)
class Rendered:
    texts: tuple[str, ...]
    choices: tuple[Button, ...]  # what "1", "2", ... pick in the next message


_PIECE = re.compile(r"[^\n。！？!?；;]*(?:[\n。！？!?；;]+|$)")


def _hard_split(text: str, limit: int, measure: Measure) -> list[str]:
    out: list[str] = []
    current = ""
    for ch in text:
        if current and measure(current + ch) > limit:
            out.append(current)
            current = ""
        current += ch
    if current:
        out.append(current)
    return out


def split_text(text: str, limit: int, measure: Measure = chars) -> list[str]:
    """Split `text` into chunks of at most `limit` (by `measure`), preferring line and sentence
    ends; a single over-long sentence is cut between characters."""
    if measure(text) <= limit:
        return [text]
    pieces: list[str] = []
    for piece in _PIECE.findall(text):
        if not piece:
            continue
        pieces.extend([piece] if measure(piece) <= limit else _hard_split(piece, limit, measure))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and measure((current + piece).rstrip("\n")) > limit:
            chunks.append(current)
            current = ""
        current += piece
    if current:
        chunks.append(current)
    return [c.strip("\n") for c in chunks if c.strip()]


def merge_bubbles(texts: Sequence[str], max_messages: int, limit: int,
                  measure: Measure = chars, separator: str = "\n\n") -> list[str]:
    """At most `max_messages` texts of at most `limit` each, in order; what cannot fit is
    shortened with a note."""
    if len(texts) <= max_messages:
        return list(texts)
    merged: list[str] = []
    for text in texts:
        if merged and measure(merged[-1] + separator + text) <= limit:
            merged[-1] = merged[-1] + separator + text
        else:
            merged.append(text)
    if len(merged) <= max_messages:
        return merged
    head, rest = merged[:max_messages - 1], merged[max_messages - 1:]
    return [*head, truncate(separator.join(rest), limit, measure)]


def truncate(text: str, limit: int, measure: Measure = chars) -> str:
    if measure(text) <= limit:
        return text
    note = template("truncated")
    return _hard_split(text, limit - measure(note), measure)[0] + note


def render(messages: Sequence[OutboundMessage], *, limit: int, measure: Measure = chars,
           max_messages: int | None = None) -> Rendered:
    """Plain-text bubbles for `messages`, with buttons as numbered choices."""
    bubbles: list[str] = []
    choices: list[Button] = []
    for message in messages:
        lines: list[str] = []
        if message.text:
            lines.append(message.text.strip())
        if message.image:
            lines.append(message.image)
        if message.buttons:
            for button in message.buttons:
                choices.append(button)
                lines.append(f"{len(choices)}. {button.title}")
            lines.append(template("choices_hint"))
        text = "\n".join(line for line in lines if line)
        if text:  # custom payloads (handoff, ...) are for the gateway, not the person
            bubbles.extend(split_text(text, limit, measure))
    if max_messages is not None:
        bubbles = merge_bubbles(bubbles, max_messages, limit, measure)
    return Rendered(texts=tuple(bubbles), choices=tuple(choices))


def pick_choice(text: str | None, choices: Sequence[Button]) -> Button | None:
    """The button a reply like "1", "２" or "1." picks, if any."""
    if not text or not choices:
        return None
    normal = unicodedata.normalize("NFKC", text).strip().rstrip(".、。")
    if not normal.isdecimal() or len(normal) > 3:
        return None
    index = int(normal)
    return choices[index - 1] if 1 <= index <= len(choices) else None


class ChoiceMemory:
    """The last numbered choices shown in each conversation (in this process).

    Bounded (least recently used dropped) and expiring: a "1" sent a day later is text again.
    """

    def __init__(self, ttl: float = 86400, max_size: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max = max_size
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, tuple[Button, ...]]] = OrderedDict()

    def remember(self, conversation: str, choices: Sequence[Button]) -> None:
        self._items.pop(conversation, None)
        if choices:
            self._items[conversation] = (self._clock() + self._ttl, tuple(choices))
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def get(self, conversation: str) -> tuple[Button, ...]:
        item = self._items.get(conversation)
        if item is None:
            return ()
        if item[0] < self._clock():
            del self._items[conversation]
            return ()
        self._items.move_to_end(conversation)
        return item[1]

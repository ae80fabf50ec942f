"""The common message types and the `Channel` interface every platform implements."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from aiohttp import web


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a person, whatever the platform."""

    channel: str
    conversation_id: str
    sender_id: str
    message_id: str | None
    text: str | None
    payload: str | None = None  # a button click, e.g. "/affirm" or '/inform{"district":"武进区"}'
    metadata: Mapping[str, Any] = field(default_factory=dict)
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def sender_key(self) -> str:
        """The Rasa sender id: one tracker per channel and conversation."""
        return f"{self.channel}:{self.conversation_id}"

    @property
    def content(self) -> str:
        """What goes to Rasa: the button payload when there is one, else the text."""
        return self.payload if self.payload is not None else (self.text or "")


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One bot (or staff) message before it is rendered for a platform."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    custom: Mapping[str, Any] | None = None
    image: str | None = None

    @classmethod
    def from_rasa(cls, data: Mapping[str, Any]) -> OutboundMessage:
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in data.get("buttons") or ()
            if isinstance(b, Mapping)
        )
        custom = data.get("custom")
        return cls(
            text=data.get("text"),
            buttons=buttons,
            custom=custom if isinstance(custom, Mapping) else None,
            image=data.get("image"),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.text is not None:
            out["text"] = self.text
        if self.buttons:
            out["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.custom is not None:
            out["custom"] = dict(self.custom)
        if self.image is not None:
            out["image"] = self.image
        return out


class Channel(abc.ABC):
    """A messaging platform: registers its webhook routes, sends replies, closes."""

    name: ClassVar[str]

    @abc.abstractmethod
    def register(self, app: web.Application) -> None:
        """Add the platform's routes to the gateway app."""

    @abc.abstractmethod
    async def send(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Deliver messages to a conversation outside a request (staff replies, reminders)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the channel holds (sessions, sockets)."""

"""Decrypted WeChat-family message XML (WeCom app, Official Account) → the common message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connectors.base import InboundMessage

GREETING_PAYLOAD = "/greet"  # what a new follower (subscribe event) says to the bot


@dataclass(frozen=True)
class Text:
    message: InboundMessage


@dataclass(frozen=True)
class Unsupported:
    message: InboundMessage
    kind: str  # the platform's MsgType: voice, image, video, file, location, link, ...


@dataclass(frozen=True)
class Ignored:
    reason: str


Parsed = Text | Unsupported | Ignored


def dedup_id(fields: Mapping[str, str]) -> str:
    """The platform's retry-dedup rule: MsgId, or FromUserName + CreateTime for events."""
    msg_id = fields.get("MsgId", "")
    if msg_id:
        return msg_id
    return f"event:{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}"


def parse_message(fields: Mapping[str, str], channel: str) -> Parsed:
    sender = fields.get("FromUserName", "")
    if not sender:
        return Ignored("no FromUserName")
    msg_type = fields.get("MsgType", "")

    def inbound(text: str | None, payload: str | None = None) -> InboundMessage:
        return InboundMessage(channel=channel, conversation_id=sender, sender_id=sender,
                              message_id=dedup_id(fields), text=text, payload=payload,
                              metadata={"channel": channel})

    if msg_type == "text":
        content = fields.get("Content", "").strip()
        return Text(inbound(content)) if content else Ignored("empty text")
    if msg_type == "event":
        event = fields.get("Event", "").lower()
        key = fields.get("EventKey", "")
        if event == "subscribe":
            return Text(inbound(None, GREETING_PAYLOAD))
        if event == "click" and key.startswith("/"):  # a menu item configured with an intent
            return Text(inbound(None, key))
        return Ignored(f"event {event}")
    return Unsupported(inbound(None), msg_type or "other")

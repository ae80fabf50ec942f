"""Feishu event v2 (`im.message.receive_v1`, channels.md §5.3) → the common message."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from connectors.base import InboundMessage
from connectors.wecom.parse import Ignored, Parsed, Text, Unsupported

CHANNEL = "feishu"
MESSAGE_EVENT = "im.message.receive_v1"
_MENTION = re.compile(r"@_user_\d+")  # mention placeholders inside the text content


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def parse_event(event: Mapping[str, Any]) -> Parsed:
    if _get(event, "header", "event_type") != MESSAGE_EVENT:
        return Ignored(f"event {_get(event, 'header', 'event_type')}")
    event_id = str(_get(event, "header", "event_id") or "")
    message = _get(event, "event", "message")
    if _get(event, "event", "sender", "sender_type") != "user" or not isinstance(message,
                                                                                 Mapping):
        return Ignored("not a user message")
    open_id = str(_get(event, "event", "sender", "sender_id", "open_id") or "")
    chat_type = str(message.get("chat_type") or "")
    chat_id = str(message.get("chat_id") or "")
    conversation = chat_id if chat_type == "group" else open_id
    if not (event_id and open_id and conversation):
        return Ignored("incomplete event")

    def inbound(text: str | None) -> InboundMessage:
        # Dedup on header.event_id: the same event is re-pushed for up to ~7.1 hours.
        return InboundMessage(channel=CHANNEL, conversation_id=conversation, sender_id=open_id,
                              message_id=event_id, text=text,
                              metadata={"channel": CHANNEL, "chat_type": chat_type,
                                        "message_id": str(message.get("message_id") or "")})

    message_type = str(message.get("message_type") or "")
    if message_type != "text":
        return Unsupported(inbound(None), message_type or "other")
    try:
        content = json.loads(str(message.get("content") or "{}"))  # a JSON string, again
    except ValueError:
        return Ignored("content is not JSON")
    text = _MENTION.sub("", str(content.get("text") or "") if isinstance(content, dict)
                        else "").strip()
    return Text(inbound(text)) if text else Ignored("empty text")

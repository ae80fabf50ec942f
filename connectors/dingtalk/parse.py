"""DingTalk robot HTTP-mode body (channels.md §4.1) → the common message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import InboundMessage
from connectors.wecom.parse import Ignored, Parsed, Text, Unsupported

CHANNEL = "dingtalk"
USER_PREFIX = "user:"  # one-to-one chat: the sender's staff id
GROUP_PREFIX = "group:"  # group chat: the open conversation id


def parse_body(body: Mapping[str, Any]) -> Parsed:
    msg_id = str(body.get("msgId") or "")
    if not msg_id:
        return Ignored("no msgId")
    staff_id = str(body.get("senderStaffId") or "")
    sender = staff_id or str(body.get("senderId") or "")
    if str(body.get("conversationType")) == "2":
        conversation = GROUP_PREFIX + str(body.get("conversationId") or "")
    elif staff_id:
        conversation = USER_PREFIX + staff_id
    else:
        return Ignored("one-to-one message from a user without a staff id")
    if not sender or conversation in (USER_PREFIX, GROUP_PREFIX):
        return Ignored("no sender or conversation")

    def inbound(text: str | None) -> InboundMessage:
        return InboundMessage(channel=CHANNEL, conversation_id=conversation, sender_id=sender,
                              message_id=msg_id, text=text,
                              metadata={"channel": CHANNEL,
                                        "conversation_type": str(body.get("conversationType"))})

    msgtype = str(body.get("msgtype") or "")
    if msgtype == "text":
        text = body.get("text")
        content = str(text.get("content") or "").strip() if isinstance(text, Mapping) else ""
        return Text(inbound(content)) if content else Ignored("empty text")
    return Unsupported(inbound(None), msgtype or "other")

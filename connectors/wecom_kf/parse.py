"""`sync_msg` items → the common message (channels.md §2.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import InboundMessage
from connectors.wecom.parse import Ignored, Parsed, Text, Unsupported

CHANNEL = "wecom_kf"
ORIGIN_CUSTOMER = 3  # 3: the WeChat customer; 4: system event; 5: a human servicer


def conversation_id(open_kfid: str, external_userid: str) -> str:
    """One conversation per customer-service account and customer: both are needed to send."""
    return f"{open_kfid}:{external_userid}"


def split_conversation_id(value: str) -> tuple[str, str]:
    open_kfid, sep, external_userid = value.partition(":")
    if not sep or not open_kfid or not external_userid:
        raise ValueError(f"not a {CHANNEL} conversation id: {value!r}")
    return open_kfid, external_userid


def parse_item(item: Mapping[str, Any]) -> Parsed:
    if item.get("origin") != ORIGIN_CUSTOMER:
        return Ignored(f"origin {item.get('origin')}")
    open_kfid, user, msgid = (str(item.get(k) or "") for k in
                              ("open_kfid", "external_userid", "msgid"))
    if not (open_kfid and user and msgid):
        return Ignored("incomplete item")
    msgtype = str(item.get("msgtype") or "")

    def inbound(text: str | None) -> InboundMessage:
        return InboundMessage(channel=CHANNEL, conversation_id=conversation_id(open_kfid, user),
                              sender_id=user, message_id=msgid, text=text,
                              metadata={"channel": CHANNEL, "open_kfid": open_kfid})

    if msgtype == "text":
        text = item.get("text")
        content = str(text.get("content") or "").strip() if isinstance(text, Mapping) else ""
        return Text(inbound(content)) if content else Ignored("empty text")
    if msgtype == "event":
        return Ignored("event")
    return Unsupported(inbound(None), msgtype or "other")

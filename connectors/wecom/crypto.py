"""WeCom callback envelope (channels.md §1): `<xml><ToUserName/><AgentID/><Encrypt/></xml>`.

The crypto itself is the shared WXBizMsgCrypt framing in `connectors.wxcrypt`, with the CorpID
as receive id.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.wxcrypt import WXBizMsgCrypt, XMLError, xml_fields

REPLAY_WINDOW_SECONDS = 300  # WeCom retries within ~15 s (3 × 5 s); 5 min also absorbs skew

__all__ = ["REPLAY_WINDOW_SECONDS", "Envelope", "WXBizMsgCrypt", "parse_envelope"]


@dataclass(frozen=True)
class Envelope:
    to_user: str
    agent_id: str
    encrypt: str


def parse_envelope(body: bytes) -> Envelope:
    """The outer XML of an encrypted callback; XMLError when it has no `Encrypt`."""
    fields = xml_fields(body)
    encrypt = fields.get("Encrypt", "")
    if not encrypt:
        raise XMLError("no Encrypt element")
    return Envelope(to_user=fields.get("ToUserName", ""), agent_id=fields.get("AgentID", ""),
                    encrypt=encrypt)

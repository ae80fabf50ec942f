"""Official Account callback checks (channels.md §3). Plain mode signs only the query
(`sha1(sorted(token, timestamp, nonce))`); safe mode adds `msg_signature` over `Encrypt` and
the shared WXBizMsgCrypt framing with the AppID as receive id."""

from __future__ import annotations

from connectors.wxcrypt import WXBizMsgCrypt, check_timestamp, verify_signature

REPLAY_WINDOW_SECONDS = 300  # WeChat retries within ~15 s (3 × 5 s); 5 min absorbs clock skew

__all__ = ["REPLAY_WINDOW_SECONDS", "WXBizMsgCrypt", "verify_plain"]


def verify_plain(token: str, signature: str, timestamp: str, nonce: str, *,
                 now: float | None = None, window: float = REPLAY_WINDOW_SECONDS) -> None:
    """The query signature of every Official Account request, and its replay window."""
    verify_signature(signature, token, timestamp, nonce)
    check_timestamp(timestamp, window=window, now=now)

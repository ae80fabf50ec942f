"""DingTalk checks (channels.md §4). Pure functions, no I/O.

* Robot HTTP mode: headers `timestamp` (ms) and `sign` =
  base64(HMAC-SHA256(key=appSecret, msg=timestamp + "\\n" + appSecret)); a request is genuine
  only if the sign matches and the timestamp is within one hour. The sign covers the timestamp,
  not the body, so retries and replays are also deduplicated by msgId.
* Event subscription ("DingCallbackCrypto"): the shared WXBizMsgCrypt framing in a JSON
  envelope, timestamps in milliseconds, receive id = appKey / corpId / suiteKey; the answer is
  the encrypted string "success".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from typing import Any

from connectors.wxcrypt import SignatureError, WXBizMsgCrypt, check_timestamp

# DingTalk's documented window for the robot `timestamp` header: one hour either way.
REPLAY_WINDOW_SECONDS = 3600


def robot_sign(timestamp: str, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode("utf-8"), f"{timestamp}\n{app_secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_robot_request(timestamp: str, sign: str, app_secret: str, *,
                         now: float | None = None) -> None:
    """Raise SignatureError or StaleTimestamp unless the robot headers are genuine."""
    expected = robot_sign(timestamp, app_secret)
    if not hmac.compare_digest(expected.encode("ascii"), sign.strip().encode("utf-8")):
        raise SignatureError("robot sign mismatch")
    check_timestamp(timestamp, window=REPLAY_WINDOW_SECONDS, now=now, millis=True)


@dataclass(frozen=True)
class DingCallbackCrypto:
    """Event-subscription crypto: token, aes_key (43 chars) and owner key (receive id)."""

    token: str
    aes_key: str
    owner_key: str

    @property
    def _crypt(self) -> WXBizMsgCrypt:
        return WXBizMsgCrypt(self.token, self.aes_key, self.owner_key)

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        return self._crypt.decrypt_message(msg_signature, timestamp, nonce, encrypt).decode(
            "utf-8")

    def encrypted_success(self, timestamp: str | None = None, nonce: str | None = None,
                          random16: bytes | None = None) -> dict[str, Any]:
        """The answer DingTalk expects: the string "success", encrypted and signed."""
        ts = timestamp or str(int(time.time() * 1000))
        nonce = nonce or os.urandom(4).hex()
        encrypted = self._crypt.encrypt_text("success", random16)
        return {"msg_signature": self._crypt.signature(ts, nonce, encrypted), "timeStamp": ts,
                "nonce": nonce, "encrypt": encrypted}

"""Signed, expiring web session tokens (itsdangerous: HMAC-SHA1 over a timestamped payload)."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer


class InvalidToken(Exception):
    pass


class SessionTokens:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="legalbot.web.session")
        self._ttl = ttl_seconds

    def issue(self) -> tuple[str, str]:
        """A new session id and its token."""
        session_id = secrets.token_hex(16)
        return session_id, self._serializer.dumps({"sid": session_id})

    def verify(self, token: str) -> str:
        """The session id inside a valid, unexpired token; InvalidToken otherwise."""
        try:
            data = self._serializer.loads(token, max_age=self._ttl)
        except BadSignature as exc:  # SignatureExpired is a BadSignature too
            raise InvalidToken(str(exc)) from exc
        sid = data.get("sid") if isinstance(data, dict) else None
        if not isinstance(sid, str):
            raise InvalidToken("token carries no session id")
        return sid

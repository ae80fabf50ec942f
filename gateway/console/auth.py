"""Console sign-in: argon2 password hashes, a signed session cookie, CSRF tokens.

The session cookie (HttpOnly, SameSite=Strict) carries the staff id, a CSRF token and a
fingerprint of the password hash, signed and timestamped with itsdangerous; changing a password
ends every session of that person. Signing out ends that session on the server too: its key
(`revocation_key`) stays in the gateway's shared state until the cookie would have expired, so
a copy of the cookie is refused as well. Every state-changing request (form or API) and every
API read must carry the session's CSRF token, in the form field `csrf` or the `X-CSRF-Token`
header; the sign-in form gets one from an anonymous session cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "legalbot_console"
CSRF_HEADER = "X-CSRF-Token"
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_CHARS = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        matched = _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    csrf: str
    staff_id: int | None = None
    fingerprint: str | None = None


class Sessions:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="legalbot.console.session")
        self.ttl = ttl_seconds

    def read(self, request: web.Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=self.ttl)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        staff_id = data.get("sid")
        fp = data.get("fp")
        return Session(csrf=data["csrf"], staff_id=staff_id if isinstance(staff_id, int) else None,
                       fingerprint=fp if isinstance(fp, str) else None)

    def write(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        value = self._serializer.dumps({"csrf": session.csrf, "sid": session.staff_id,
                                        "fp": session.fingerprint})
        response.set_cookie(COOKIE, value, max_age=self.ttl, path="/console", httponly=True,
                            samesite="Strict", secure=request.secure)

    @staticmethod
    def clear(response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/console")


def new_session(staff_id: int | None = None, password_hash: str | None = None) -> Session:
    return Session(csrf=secrets.token_urlsafe(24), staff_id=staff_id,
                   fingerprint=fingerprint(password_hash) if password_hash else None)


def revocation_key(session: Session) -> str:
    """The shared-state key that marks `session` as signed out (a hash: the CSRF token itself
    never leaves the cookie)."""
    return "console-logout:" + hashlib.sha256(session.csrf.encode()).hexdigest()


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and secrets.compare_digest(session.csrf, str(submitted))

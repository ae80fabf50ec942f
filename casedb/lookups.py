"""Look-ups by reference plus the last 4 digits of the phone, with a failed-try limit.

After `MAX_FAILED_TRIES` failures for one conversation or one reference within
`FAILURE_WINDOW`, every look-up is refused: 2^40 references are not guessable, and the limit
stops trying phone digits against a reference someone has seen. Shared by booking look-ups
(`casedb.bookings`) and legal aid status look-ups (`actions/legal_aid_status.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from casedb.repositories import VerificationFailureRepository

MAX_FAILED_TRIES = 5
FAILURE_WINDOW = timedelta(hours=1)


def conversation_key(channel: str, external_id: str) -> str:
    return f"conversation:{channel}:{external_id}"


def reference_key(code: str) -> str:
    return f"reference:{code}"


def phone_matches(phone: str, last4: str) -> bool:
    digits = "".join(ch for ch in last4 if ch.isdigit())
    return len(digits) == 4 and phone.endswith(digits)


async def locked(failures: VerificationFailureRepository, keys: Sequence[str],
                 now: datetime) -> bool:
    for key in keys:
        if await failures.count_since(key, now - FAILURE_WINDOW) >= MAX_FAILED_TRIES:
            return True
    return False

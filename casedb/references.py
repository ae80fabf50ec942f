"""Non-guessable references people quote back: `FY-` (legal aid) or `YY-` (booking) + 8 chars.

The alphabet leaves out 0/O, 1/I/L and lower case, which people misread on a phone screen;
8 characters from 32 give 2^40 values, so guessing a live reference is hopeless, and look-ups
are rate limited besides.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8
# Not \b: between a Chinese character and a letter there is no word boundary.
_PATTERN = re.compile(rf"(?<![A-Z0-9])(FY|YY)[-_ ]?([{ALPHABET}]{{{LENGTH}}})(?![A-Z0-9])")


def new_reference(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def find_reference(text: str, prefix: str | None = None) -> str | None:
    """The first reference in `text`, normalised ("fy7k3m9qxa" → "FY-7K3M9QXA"), or None."""
    for match in _PATTERN.finditer(text.upper()):
        if prefix is None or match.group(1) == prefix:
            return f"{match.group(1)}-{match.group(2)}"
    return None

"""How many days until a deadline the person mentions ("还有3天就过仲裁时效了", "明天就开庭").

Art. 44(一): fewer than seven days to a limitation period or deadline allows aid before the
review is finished. People mention it in passing, so the result looks through what they wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import cn2an

_EVENT = r"(开庭|到期|截止|过期|时效|期限|起诉期|仲裁期|上诉期|最后一天|deadline)"
_RELATIVE = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
_COUNT = r"([0-9]+|[一二两三四五六七八九十]+)"
_IN_DAYS = re.compile(rf"(?:还有|只有|只剩|剩|不到|再过)?\s*{_COUNT}\s*天"
                      rf"(?:以?内|后|之后)?[^。!?!?]{{0,12}}{_EVENT}")
_NAMED_DAY = re.compile(rf"(大后天|后天|明天|今天)[^。!?!?]{{0,8}}{_EVENT}")


def _number(text: str) -> int | None:
    try:
        return int(text) if text.isdigit() else int(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError):
        return None


def days_to_deadline(texts: Iterable[str]) -> int | None:
    """The nearest deadline mentioned in `texts`, in days, or None if none is mentioned."""
    found: list[int] = []
    for text in texts:
        for match in _IN_DAYS.finditer(text):
            days = _number(match.group(1))
            if days is not None:
                found.append(days)
        found.extend(_RELATIVE[m.group(1)] for m in _NAMED_DAY.finditer(text))
    return min(found) if found else None

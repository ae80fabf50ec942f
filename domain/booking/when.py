"""Resolve a Chinese date/time expression ("下周三上午", "明天下午两点", "12月3号14:30", "后天")
into a wish for a consultation slot, or a reason with a Chinese question back.

Pure: the caller passes `now`; everything is wall-clock time in Asia/Shanghai. Parsing is done
by JioNLP (`jionlp.ner.extract_time` to find the expression in a sentence, `parse_time` to
read it); this module adds what a booking needs on top:

- plausibility checks JioNLP does not make (it reads "13月1号" as 1 Nov and "明天25点" as
  "明天"): month, day, hour and minute ranges are checked on the raw text first;
- a bare hour from 1 to 6 without 上午/早上/凌晨 means the afternoon ("三点" → 15:00): nobody
  books a legal consultation at 3 a.m.;
- a date written without "上/这/本/今" that already passed means the next one: "周五" said on a
  Saturday is next Friday, "1月2日" said in December is next January, "九点" said at ten is
  tomorrow (JioNLP's own `ret_future` gets some of these wrong);
- only working days (`domain.booking.calendar`), not in the past, within `horizon_days`.

Precision is kept: an exact time (EXACT), a part of a day or a time range in one day (WINDOW,
"上午" → 07:00–12:00 as JioNLP defines it), a whole day (DAY) or several days (DAYS, "下周").
Opening hours are not known here; `domain.booking.slots.match` applies them.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import cn2an

from domain.booking.calendar import DayKind, WorkCalendar, default_calendar
from domain.booking.texts import texts

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
HORIZON_DAYS = 60


class Granularity(enum.StrEnum):
    EXACT = "exact"  # a time of day: "明天下午两点"
    WINDOW = "window"  # part of one day: "下周三上午", "明天9点到10点"
    DAY = "day"  # a whole day: "后天"
    DAYS = "days"  # several days: "下周"


class Problem(enum.StrEnum):
    EMPTY = "empty"
    UNPARSEABLE = "unparseable"
    AMBIGUOUS = "ambiguous"  # two or more times: "周二或周三"
    INVALID_DATE = "invalid_date"  # "13月1号", "2月30日"
    INVALID_TIME = "invalid_time"  # "25点", "10:70"
    PAST = "past"
    TOO_FAR = "too_far"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    NO_WORKING_DAY = "no_working_day"


@dataclass(frozen=True)
class Wish:
    """What the person asked for: [start, end) in Asia/Shanghai (end == start when EXACT)."""

    text: str
    start: datetime
    end: datetime
    granularity: Granularity
    calendar_known: bool = True  # False: a year without holiday data (weekday-only guess)

    @property
    def exact(self) -> bool:
        return self.granularity is Granularity.EXACT

    def describe(self) -> str:
        """Chinese: "12月3日(周四)14:30", "12月2日(周三)07:00–12:00", "12月7日至12月13日"."""
        t = texts()
        if self.exact:
            return t.slot(self.start)
        day = f"{t.day(self.start)}({t.weekday(self.start.weekday())})"
        if self.granularity is Granularity.DAY:
            return day
        if self.granularity is Granularity.WINDOW:
            end = "24:00" if self.end.date() > self.start.date() else f"{self.end:%H:%M}"
            return f"{day}{self.start:%H:%M}–{end}"
        last = self.end - timedelta(microseconds=1)
        return f"{t.day(self.start)}至{t.day(last)}"

    def caveat(self) -> str | None:
        """The "holiday data missing" note to add to a reply, if the year is unknown."""
        if self.calendar_known:
            return None
        return texts().get("calendar_unknown", year=self.start.year)


@dataclass(frozen=True)
class Unresolved:
    problem: Problem
    question: str  # Chinese, ready to send
    anchor: datetime | None = None  # what was asked, when known: offer free slots near it


Resolution = Wish | Unresolved

# --- raw-text checks ---------------------------------------------------------------------

_NUM = r"(\d{1,4}|[零〇一二两三四五六七八九十]{1,4})"
_MONTH = re.compile(r"(?<![个\d])" + _NUM + r"\s*月(?:份)?" + r"(?:\s*" + _NUM + r"\s*[日号])?")
_DAY = re.compile(_NUM + r"\s*[日号]")
_SLASH_DATE = re.compile(r"(?<![\d.])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
_HOUR = re.compile(_NUM + r"\s*(?:点|时(?!间|候))")
_CLOCK = re.compile(r"(?<!\d)(\d{1,2})\s*:\s*(\d{1,2})(?!\d)")
_MINUTE = re.compile(r"(?:点|时)\s*" + _NUM + r"\s*分")
_SEVERAL = re.compile(r"或者?|还是|要么|/或")
_AM_MARKER = re.compile(r"上午|早上|早晨|清晨|凌晨|早|am|a\.m\.", re.IGNORECASE)
_EXPLICIT_RELATIVE = re.compile(r"昨|前天|上周|上个|上礼拜|上星期|去年|今|这|本|刚才|年")
_BARE_WEEKDAY = re.compile(r"(?<![上下这本])(?:周|星期|礼拜)[一二三四五六日天1-7]")
_MONTH_DAY = re.compile(r"月|/|\d{1,2}\s*[日号]|[一二三四五六七八九十]\s*[日号]")
_DAY_WORDS = re.compile(r"天|日|号|周|星期|礼拜|月|年|/|节|元旦|除夕")
_FESTIVAL = re.compile(r"节|元旦|除夕")
_FILLERS = {"明早": "明天早上", "今早": "今天早上", "明晚": "明天晚上", "今晚": "今天晚上",
            "后早": "后天早上", "礼拜天": "礼拜日", "星期天": "星期日", "周天": "周日"}


def _int(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    try:
        return int(cn2an.cn2an(token, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def _check_numbers(text: str) -> Problem | None:
    for match in _MONTH.finditer(text):
        month = _int(match.group(1))
        if month is None or not 1 <= month <= 12:
            return Problem.INVALID_DATE
        if match.group(2) is not None:
            day = _int(match.group(2))
            if day is None or not 1 <= day <= _days_in_month(month):
                return Problem.INVALID_DATE
    for match in _DAY.finditer(text):
        day = _int(match.group(1))
        if day is None or not 1 <= day <= 31:
            return Problem.INVALID_DATE
    for match in _SLASH_DATE.finditer(text):
        month, day = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(month):
            return Problem.INVALID_DATE
    for match in _HOUR.finditer(text):
        hour = _int(match.group(1))
        if hour is None or hour > 24:
            return Problem.INVALID_TIME
    for match in _CLOCK.finditer(text):
        if int(match.group(1)) > 24 or int(match.group(2)) > 59:
            return Problem.INVALID_TIME
    for match in _MINUTE.finditer(text):
        minute = _int(match.group(1))
        if minute is None or minute > 59:
            return Problem.INVALID_TIME
    return None


def _days_in_month(month: int) -> int:
    return 29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"\s+", " ", text)
    for short, long in _FILLERS.items():
        text = text.replace(short, long)
    return text.strip("。.!！?？~～,，;；、\"'“”‘’ ")


# --- JioNLP --------------------------------------------------------------------------------


@functools.cache
def _jionlp() -> ModuleType:
    # JioNLP prints a banner on import; keep it out of the service logs.
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

    module: ModuleType = jionlp
    return module


@dataclass(frozen=True)
class _Parsed:
    text: str
    kind: str  # time_point | time_span
    blur: bool
    start: datetime  # naive, Shanghai wall time
    end: datetime  # naive, exclusive


def _from_detail(text: str, detail: dict[str, Any]) -> _Parsed | None:
    kind = detail.get("type")
    times = detail.get("time")
    if kind not in ("time_point", "time_span") or not isinstance(times, list) or len(times) != 2:
        return None
    try:
        start = datetime.fromisoformat(str(times[0]))
        end = datetime.fromisoformat(str(times[1]))
    except ValueError:
        return None
    if end.second == 59:  # JioNLP ends are inclusive ("11:59:59")
        end += timedelta(seconds=1)
    if end < start:
        return None
    return _Parsed(text, str(kind), detail.get("definition") == "blur", start, end)


def _parse(text: str, base: datetime) -> list[_Parsed]:
    """The time expressions in `text` (several: the person named several times)."""
    jio = _jionlp()
    time_base = [base.year, base.month, base.day, base.hour, base.minute, base.second]
    found: list[_Parsed] = []
    try:
        entities = jio.ner.extract_time(text, time_base=time_base, with_parsing=True)
    except Exception:  # JioNLP raises assorted errors on odd input
        log.debug("extract_time failed on %r", text, exc_info=True)
        entities = []
    for entity in entities:
        parsed = _from_detail(str(entity.get("text", "")), entity.get("detail") or {})
        if parsed is not None:
            found.append(parsed)
    if len(found) == 1:
        return found
    # Nothing found (or pieces of one range, "5点半到6点"): read the whole text as one.
    try:
        detail = jio.parse_time(text, time_base=time_base)
    except Exception:
        log.debug("parse_time failed on %r", text, exc_info=True)
        return found
    whole = _from_detail(text, detail)
    if whole is not None and (not found or whole.kind == "time_span"):
        return [whole]
    return found


# --- resolution ----------------------------------------------------------------------------


def resolve(text: str, now: datetime, calendar: WorkCalendar | None = None, *,
            horizon_days: int = HORIZON_DAYS) -> Resolution:
    """Resolve `text` against `now` (any timezone; converted to Asia/Shanghai)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    calendar = calendar or default_calendar()
    now = now.astimezone(SHANGHAI)
    t = texts()
    clean = normalise(text)
    if not clean:
        return Unresolved(Problem.EMPTY, t.get("questions.empty"))
    if _SEVERAL.search(clean):
        return Unresolved(Problem.AMBIGUOUS, t.get("questions.ambiguous"))
    problem = _check_numbers(clean)
    if problem is not None:
        return Unresolved(problem, t.get(f"questions.{problem.value}", text=clean))

    base = now.replace(tzinfo=None, microsecond=0)
    found = _parse(clean, base)
    if not found:
        return Unresolved(Problem.UNPARSEABLE, t.get("questions.unparseable", text=clean))
    if len(found) > 1:
        return Unresolved(Problem.AMBIGUOUS, t.get("questions.ambiguous"))
    parsed = found[0]

    start, end, granularity = _shape(parsed)
    if granularity is Granularity.EXACT and 1 <= start.hour <= 6 and \
            not _AM_MARKER.search(parsed.text):
        start += timedelta(hours=12)
        end = start
    start, end = _roll_forward(parsed.text, start, end, granularity, base)
    if _FESTIVAL.search(parsed.text) and end <= base and \
            not _EXPLICIT_RELATIVE.search(parsed.text):
        # A festival that passed this year: read it again from next New Year (lunar dates move).
        again = _parse(parsed.text, datetime(base.year + 1, 1, 1))
        if len(again) == 1:
            parsed = again[0]
            start, end, granularity = _shape(parsed)

    start_z, end_z = start.replace(tzinfo=SHANGHAI), end.replace(tzinfo=SHANGHAI)
    past = start_z <= now if granularity is Granularity.EXACT else end_z <= now
    if past:
        return Unresolved(Problem.PAST, t.get("questions.past", when=_when(parsed, start_z)),
                          anchor=now)
    last_day = now.date() + timedelta(days=horizon_days)
    if start.date() > last_day:
        return Unresolved(Problem.TOO_FAR, t.get("questions.too_far", days=horizon_days,
                                                 last=t.day(datetime.combine(last_day,
                                                                             start.time()))))
    days = _days(start, end, granularity)
    infos = [calendar.info(d) for d in days]
    known = all(i.known for i in infos)
    if not any(i.is_working for i in infos):
        if granularity is Granularity.DAYS:
            return Unresolved(Problem.NO_WORKING_DAY, t.get("questions.no_working_day"),
                              anchor=start_z)
        info = infos[0]
        when = t.day(start_z)
        if info.kind is DayKind.HOLIDAY:
            question = t.get("questions.holiday", when=when, holiday=t.holiday(info.holiday))
            return Unresolved(Problem.HOLIDAY, _with_caveat(question, known, start), start_z)
        question = t.get("questions.weekend", when=when, weekday=t.weekday(start.weekday()))
        return Unresolved(Problem.WEEKEND, _with_caveat(question, known, start), start_z)
    return Wish(clean, start_z, end_z, granularity, calendar_known=known)


def _with_caveat(question: str, known: bool, start: datetime) -> str:
    if known:
        return question
    return question + texts().get("calendar_unknown", year=start.year)


def _shape(parsed: _Parsed) -> tuple[datetime, datetime, Granularity]:
    start, end = parsed.start, parsed.end
    if parsed.kind == "time_point" and not parsed.blur and end - start <= timedelta(hours=1):
        return start, start, Granularity.EXACT
    if start.time() == datetime.min.time() and end == start + timedelta(days=1):
        return start, end, Granularity.DAY
    if (end - timedelta(microseconds=1)).date() == start.date():
        return start, end, Granularity.WINDOW
    return start, end, Granularity.DAYS


def _roll_forward(text: str, start: datetime, end: datetime, granularity: Granularity,
                  base: datetime) -> tuple[datetime, datetime]:
    """Move an expression that already passed to its next occurrence when the text allows."""
    over = (start <= base) if granularity is Granularity.EXACT else (end <= base)
    if not over or _EXPLICIT_RELATIVE.search(text):
        return start, end
    if _BARE_WEEKDAY.search(text):
        step = timedelta(days=7)
        return start + step, end + step
    if _MONTH_DAY.search(text):
        try:
            return _next_year(start), _next_year(end)
        except ValueError:  # 29 February
            return start, end
    if not _DAY_WORDS.search(text) and start.date() == base.date():  # a time of day alone
        step = timedelta(days=1)
        return start + step, end + step
    return start, end


def _next_year(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + 1)


def _days(start: datetime, end: datetime, granularity: Granularity) -> list[date]:
    if granularity is not Granularity.DAYS:
        return [start.date()]
    last = (end - timedelta(microseconds=1)).date()
    return [start.date() + timedelta(days=i) for i in range((last - start.date()).days + 1)]


def _when(parsed: _Parsed, start: datetime) -> str:
    day = texts().day(start)
    return f"“{parsed.text}”" if day in parsed.text else f"“{parsed.text}”({day})"

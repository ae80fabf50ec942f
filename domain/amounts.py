"""Parse money amounts and household sizes the way people type them in Chinese chats.

- `parse_monthly_income("一年五万")` -> Decimal("4166.67"); also "四千", "4k", "3500元/月",
  "月薪八千五", "2.5万", "没有收入" -> 0 ...
- `parse_household_size("一家三口")` -> 3; "就我一个" -> 1; "我和老伴两个人" -> 2 ...

Both return None, never a guess, for anything they cannot read with confidence: ranges
("三四千", "3000-4000"), approximations ("三千多", "几千"), several amounts, daily or weekly pay,
other currencies. Chinese numerals are converted by cn2an.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

CENT = Decimal("0.01")
MAX_MONTHLY = Decimal(10_000_000)  # anything above is a misreading, not an income
MAX_HOUSEHOLD = 30

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUMERAL = _CN_DIGITS + "十百千万亿"

# Words containing numerals that are not amounts.
_IDIOMS = re.compile(
    r"(?<![\d零〇一二两三四五六七八九十百千万])(?:一共|一起|一般|一直|一些|一下|一点儿?|一样|一定"
    r"|万一(?![千百十万])|统一|唯一|一家人|一家子|一家|一分钱|一毛钱|一份|一天到晚|一年到头"
    r"|十分|十足|百分之?百|千万(?![元块]))")
_YEARLY = re.compile(r"年薪|年收入|年入|每一?年|一年|1年|全年|/年|年均|一整年|年终")
_PER_OTHER = re.compile(r"天|日薪|每日|/日|周|星期|礼拜|小时|时薪|/h|计件"
                        r"|(?<!一)(?<!每)[\d两二三四五六七八九十半]+个?月")
_FOREIGN = re.compile(r"美元|美金|欧元|港币|港元|日元|英镑|\$|usd|eur|hkd")
_APPROX = re.compile(r"多|几|余|来万|出头|不到|以上|以下|上下|最多|最少|至少|起码")
_RANGE = re.compile(r"\d\s*[-~～—到至]\s*\d|[" + _CN_NUMERAL + r"]\s*[-~～—到至]\s*[\d"
                    + _CN_NUMERAL + "]")
# Period words, removed once the period is known.
_PERIOD = re.compile(
    r"(?:每一?|一|1)个?(?:月|年)|月薪|年薪|月收入|年收入|月入|年入|每月|每年|全年|/月|/年"
    r"|月|年")
# Household-size phrases inside an income answer ("一家三口月收入六千").
_PEOPLE = re.compile(r"[\d" + _CN_NUMERAL + r"俩仨]+\s*(?:口人|口|个人|人|位)")
_TOKEN = re.compile(r"[\d.kw" + _CN_NUMERAL + "]+")
_HAS_DIGIT = re.compile(r"[\d" + _CN_DIGITS + "十]")
_ADJACENT_CN_DIGITS = re.compile("[一二两三四五六七八九][一二两三四五六七八九]")
_ZERO = re.compile(
    r"(?:我们?家?|家里|全家|目前|现在|暂时|基本上?|完全|一直|都)*"
    r"(?:没有|没|无|零|0)(?:任何|啥|什么|固定的?)?"
    r"(?:收入|工资|进账|经济来源|收入来源|钱)?(?:来源)?(?:了|的|啊|呢)?")
_FIXED = re.compile(r"固定")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", text)  # thousands separators
    return text.strip("。.!！?？~～,，;；:：、\"'“”‘’")


def _to_decimal(value: object) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _parse_token(token: str) -> Decimal | None:
    """One amount token: "3500", "4k", "3千5", "2.5万", "两千五百", "一万二"."""
    if not _HAS_DIGIT.search(token) or token.count(".") > 1:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return _to_decimal(token)
    short = re.fullmatch(r"(\d+(?:\.\d+)?)(k|千|w|万)(\d)?", token)
    if short:
        base, unit, tail = short.groups()
        scale = Decimal(1000) if unit in ("k", "千") else Decimal(10000)
        number = _to_decimal(base)
        if number is None:
            return None
        extra = Decimal(tail) * scale / 10 if tail else Decimal(0)
        if tail and "." in base:
            return None  # "2.5万3" is not a number
        return number * scale + extra
    if "k" in token or "w" in token:
        return None
    if _ADJACENT_CN_DIGITS.search(token):
        return None  # "三四千", "七八": a range, not a number
    try:
        value = cn2an.cn2an(token, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return _to_decimal(value)


def parse_amount(text: str) -> Decimal | None:
    """A single amount of money in yuan ("四千", "4k", "3500块", "2.5万"); None otherwise."""
    text = _normalise(text)
    if not text or _FOREIGN.search(text) or _APPROX.search(text) or _RANGE.search(text):
        return None
    if text.startswith("-") or "负" in text:
        return None
    text = _IDIOMS.sub("", text)
    tokens = _TOKEN.findall(text)
    tokens = [t for t in tokens if _HAS_DIGIT.search(t)]
    if len(tokens) != 1:
        return None
    value = _parse_token(tokens[0])
    if value is None or value < 0 or value > MAX_MONTHLY * 12:
        return None
    return value


def parse_monthly_income(text: str) -> Decimal | None:
    """Monthly income in yuan, rounded to the cent; yearly figures are divided by 12.

    "四千" -> 4000, "4k" -> 4000, "3500元/月" -> 3500, "一年五万" -> 4166.67, "月薪八千五" -> 8500,
    "没有收入" / "0" -> 0; None for what it cannot read (ranges, "三千多", daily pay, ...).
    """
    text = _normalise(text)
    if not text:
        return None
    if _ZERO.fullmatch(text) and not _FIXED.search(text):
        return Decimal("0.00")
    yearly = bool(_YEARLY.search(text))
    if _PER_OTHER.search(text):
        return None
    if yearly and re.search(r"(?<![年])月", _YEARLY.sub("", text)):
        return None  # both a yearly and a monthly figure: ask again
    text = _IDIOMS.sub("", text)
    text = _PEOPLE.sub("", text)
    text = _PERIOD.sub("", text)
    value = parse_amount(text)
    if value is None:
        return None
    if yearly:
        value = value / 12
    if value > MAX_MONTHLY:
        return None
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- household size -----------------------------------------------------------------------------

_ALONE = re.compile(
    r"(?:就|只有|只|仅)?(?:我|本人)(?:自己)?(?:一个人?|1个人?|一人|1人|自己)?(?:住|生活|过)?(?:的)?"
    r"|单身|独居|独身|一个人|一人|孤身一人|光棍一个|单身一人")
_SPOUSE = "老伴|老婆|老公|妻子|丈夫|爱人|媳妇|对象|太太|先生"
_COUPLE = re.compile(
    rf"(?:就|只有)?(?:我和|我跟|我与)(?:{_SPOUSE})(?:两个人?|俩|2个人?|两人|2人)?(?:住|生活|过)?"
    r"|(?:我们)?(?:夫妻|老)?(?:俩|两口子?)")
_COUNT = re.compile(r"([\d" + _CN_NUMERAL + r"俩仨]+)\s*(口人|口|个人|个|人|位)?")
_CONJUNCTION = re.compile(r"和|跟|与|加|还有|另外|以及|外加|带着?")
_MEMBER = re.compile(r"([\d" + _CN_NUMERAL + r"俩仨]+)个?(?:大人|小孩|孩子|老人|成人|子女|儿女)")


def _small_number(token: str) -> int | None:
    token = token.replace("俩", "两").replace("仨", "三")
    if not _HAS_DIGIT.search(token):
        return None
    value = _parse_token(token)
    if value is None or value != value.to_integral_value():
        return None
    number = int(value)
    return number if 1 <= number <= MAX_HOUSEHOLD else None


def parse_household_size(text: str) -> int | None:
    """Number of people in the household: "一家三口" -> 3, "3口人" -> 3, "就我一个" -> 1,
    "我和老伴两个人" -> 2, "两个大人一个孩子" -> 3; None for what it cannot read."""
    text = _normalise(text)
    if not text or _APPROX.search(text) or _RANGE.search(text):
        return None
    if _ALONE.fullmatch(text):
        return 1
    if _COUPLE.fullmatch(text):
        return 2
    text = re.sub(r"^(?:我们家|我家|家里|全家|我们|家庭|一共|总共|共)+", "", text)
    text = re.sub(r"^一家(?=[\d" + _CN_NUMERAL + "])", "", text)  # 一家三口
    text = re.sub(r"(?:有|是|共)(?=[\d" + _CN_NUMERAL + "俩仨])", "", text)
    text = _IDIOMS.sub("", text)
    members = _MEMBER.findall(text)
    if members and _MEMBER.sub("", text).strip("和跟与加、,，") == "":
        counts = [_small_number(m) for m in members]
        if any(c is None for c in counts):
            return None
        total = sum(c for c in counts if c is not None)
        return total if total <= MAX_HOUSEHOLD else None
    matches = [m for m in _COUNT.finditer(text) if _HAS_DIGIT.search(m.group(1))
               or "俩" in m.group(1) or "仨" in m.group(1)]
    if len(matches) != 1:
        return None
    match = matches[0]
    if match.group(2) is None and match.group(0) != text:
        return None  # a bare number inside other words
    rest = text[match.end():]
    if _CONJUNCTION.search(text) and re.sub(r"(?:住|生活|一起|在一起|过|们)+$", "", rest):
        return None  # "一家三口加上奶奶": more people after the count
    if _CONJUNCTION.search(text[match.end():]):
        return None
    return _small_number(match.group(1))

"""Amount and household-size parsing of chat answers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.amounts import parse_amount, parse_household_size, parse_monthly_income


@pytest.mark.parametrize(("text", "expected"), [
    ("四千", "4000"),
    ("4k", "4000"),
    ("4K", "4000"),
    ("4.5k", "4500"),
    ("3500元/月", "3500"),
    ("3500块", "3500"),
    ("3500块钱", "3500"),
    ("3500", "3500"),
    ("一年五万", "4166.67"),
    ("年收入5万", "4166.67"),
    ("5万/年", "4166.67"),
    ("年薪12万", "10000"),
    ("全年六万", "5000"),
    ("月薪八千五", "8500"),
    ("两千五百", "2500"),
    ("两千五", "2500"),
    ("三千五百元", "3500"),
    ("四千五", "4500"),
    ("一万二", "12000"),
    ("2.5万", "25000"),
    ("1.2w", "12000"),
    ("1W", "10000"),
    ("3千5", "3500"),
    ("2万5", "25000"),
    ("没有收入", "0"),
    ("没收入", "0"),
    ("无收入", "0"),
    ("没有", "0"),
    ("家里没有任何收入", "0"),
    ("0", "0"),
    ("0元", "0"),
    ("零", "0"),
    ("每个月3500", "3500"),
    ("一个月三千", "3000"),
    ("每月到手3800元", "3800"),
    ("税后4200", "4200"),
    ("2000块钱一个月", "2000"),
    ("我们家一个月大概四千", "4000"),
    ("大概四千左右", "4000"),
    ("一共四千块", "4000"),
    ("¥3,500", "3500"),
    ("￥3500", "3500"),
    ("３５００", "3500"),
    ("3,500元", "3500"),
    (" 4000 ", "4000"),
    ("4000。", "4000"),
    ("一家三口月收入六千", "6000"),
    ("人民币三千", "3000"),
    ("一万一千", "11000"),
    ("一年到头挣三万", "2500"),
])
def test_monthly_income(text: str, expected: str) -> None:
    assert parse_monthly_income(text) == Decimal(expected)


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "不知道",
    "abc",
    "好多",
    "很多钱",
    "几千块",
    "三千多",
    "三四千",
    "七八千",
    "3000-4000",
    "3000到4000",
    "三千到四千",
    "一天200",
    "日薪300",
    "一周1500",
    "时薪25",
    "两个月工资5000",
    "半个月2000",
    "我3000老婆2000",
    "月收入4000，年收入5万",
    "3500美元",
    "-500",
    "负500",
    "没有固定收入",
    "4k5k",
    "1.2.3",
    "万",
    "千",
    "五千以上",
    "不到三千",
    "我们家十分困难",
    "千万别问",
])
def test_monthly_income_refuses_to_guess(text: str) -> None:
    assert parse_monthly_income(text) is None


def test_parse_amount_keeps_the_figure() -> None:
    assert parse_amount("五万") == Decimal(50000)
    assert parse_amount("2.5万") == Decimal(25000)
    assert parse_amount("三四千") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("一家三口", 3),
    ("一家3口", 3),
    ("3口人", 3),
    ("三口之家", 3),
    ("我们家有五口人", 5),
    ("我们家三口人一起住", 3),
    ("家里4个人", 4),
    ("五个人", 5),
    ("四口", 4),
    ("三人", 3),
    ("6个", 6),
    ("两个", 2),
    ("5", 5),
    ("十二", 12),
    ("就我一个", 1),
    ("我一个人", 1),
    ("就我自己", 1),
    ("只有我", 1),
    ("单身", 1),
    ("独居", 1),
    ("我和老伴两个人", 2),
    ("我和老伴", 2),
    ("我跟老婆两个人", 2),
    ("我们俩", 2),
    ("老两口", 2),
    ("我们夫妻俩", 2),
    ("俩", 2),
    ("仨", 3),
    ("两个大人一个孩子", 3),
    ("两个大人两个小孩", 4),
])
def test_household_size(text: str, expected: int) -> None:
    assert parse_household_size(text) == expected


@pytest.mark.parametrize("text", [
    "",
    "不知道",
    "0",
    "100",
    "三四个人",
    "三到四个人",
    "好几个人",
    "五六口",
    "一家三口加上奶奶",
    "我和孩子",
    "我和孩子们",
    "三口人和两条狗还有1只猫",
    "很多人",
    "abc",
])
def test_household_size_refuses_to_guess(text: str) -> None:
    assert parse_household_size(text) is None


@given(st.integers(min_value=0, max_value=10_000_000))
def test_any_plain_figure_round_trips(value: int) -> None:
    assert parse_monthly_income(str(value)) == Decimal(value)
    assert parse_monthly_income(f"{value}元") == Decimal(value)


@given(st.integers(min_value=1, max_value=99_999))
def test_chinese_numerals_round_trip(value: int) -> None:
    import cn2an

    text = cn2an.an2cn(value)
    assert parse_monthly_income(text) == Decimal(value)


@given(st.text(max_size=30))
def test_never_raises(text: str) -> None:
    income = parse_monthly_income(text)
    assert income is None or income >= 0
    size = parse_household_size(text)
    assert size is None or 1 <= size <= 30

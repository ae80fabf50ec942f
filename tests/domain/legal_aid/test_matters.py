from __future__ import annotations

import pytest

from domain.legal_aid.matters import guess_matter


@pytest.mark.parametrize(("text", "matter"), [
    ("我是应届毕业生,公司拖欠我三个月工资", "labour_remuneration"),
    ("老板欠了我两个月工钱不给", "labour_remuneration"),
    ("加班费一直没发", "labour_remuneration"),
    ("在工地上干活摔伤了腿", "work_injury"),
    ("我儿子被公安抓了", "criminal_defence"),
    ("我老公经常打我", "domestic_violence"),
    ("孩子他爸不给抚养费", "support_payment"),
    ("骑电动车被汽车撞了", "traffic_accident"),
    ("家里的房子要被强拆了", "land_expropriation"),
    ("在学校被同学欺负", "school_bullying"),
    ("鱼塘的鱼被污染毒死了", "environmental_damage"),
])
def test_descriptions_map_to_their_matter(text: str, matter: str) -> None:
    assert guess_matter(text) == matter


@pytest.mark.parametrize("text", ["你好", "我想申请法律援助", "朋友借钱不还", ""])
def test_no_guess_without_a_matter(text: str) -> None:
    assert guess_matter(text) is None

from __future__ import annotations

import pytest

from domain.legal_aid.deadlines import days_to_deadline


@pytest.mark.parametrize(("texts", "days"), [
    (["还有3天就过仲裁时效了"], 3),
    (["只剩五天就到起诉期限了,来得及吗"], 5),
    (["明天就开庭了"], 1),
    (["后天截止"], 2),
    (["10天后开庭", "还有两天就到期"], 2),
    (["公司拖欠我三个月工资"], None),  # a duration, not a deadline
    (["我等了三天了"], None),
    ([], None),
])
def test_deadlines_mentioned_in_passing(texts: list[str], days: int | None) -> None:
    assert days_to_deadline(texts) == days

from __future__ import annotations

import re

import pytest

from casedb.references import find_reference, new_reference


def test_new_references_use_the_unambiguous_alphabet() -> None:
    for _ in range(200):
        assert re.fullmatch(r"FY-[23456789A-HJ-NP-Z]{8}", new_reference("FY"))


@pytest.mark.parametrize(("text", "prefix", "found"), [
    ("我的编号是fy7k3m9qxa", None, "FY-7K3M9QXA"),
    ("预约码 YY-ABCD2345 谢谢", "YY", "YY-ABCD2345"),
    ("FY_7K3M9QXA", "FY", "FY-7K3M9QXA"),
    ("YY-ABCD2345", "FY", None),
    ("FY-7K3M9QXA1", None, None),  # one character too many
    ("FY-0K3M9QXA", None, None),  # 0 is not in the alphabet
])
def test_references_are_found_in_what_people_write(text: str, prefix: str | None,
                                                    found: str | None) -> None:
    assert find_reference(text, prefix) == found

"""End to end: the notary office finder on the running stack, over the web channel (issue 6).

Reuses the stack of `tests/e2e/test_stack.py` (Rasa, the action server and the gateway started
by `scripts/run.sh` on a fresh SQLite database holding the sample directory)."""

from __future__ import annotations

import pytest

from tests.e2e.test_stack import Stack, stack, web_chat

__all__ = ["stack"]  # the module-scoped fixture, shared with test_stack.py's pattern

pytestmark = pytest.mark.e2e


def test_study_abroad_offices_then_the_documents(stack: Stack) -> None:
    _, say = web_chat(stack)
    found = say({"text": "我想办出国用的学历公证，住在天宁区"})
    said = "\n".join(m.get("text") or "" for m in found)
    cards = [c for m in found if m.get("custom") for c in m["custom"].get("notary_offices", [])]
    # At most three offices, each with its address and opening hours, in text and as data.
    assert 1 <= len(cards) <= 3, found
    for card in cards:
        assert card["address"] and card["hours"]
        assert f"地址:{card['address']}" in said and f"办公时间:{card['hours']}" in said
    assert "第二十五条" in said and "天宁区" in said
    assert "附加证明书(Apostille)" in said  # documents used abroad

    documents = "\n".join(m.get("text") or "" for m in say({"text": "要带什么材料"}))
    assert documents.startswith("办理学历、学位公证一般需要带:")
    assert "毕业证书、学位证书原件" in documents

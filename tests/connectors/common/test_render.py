"""Rendering for text-only platforms: numbered choices, splitting, merging."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connectors.base import Button, OutboundMessage
from connectors.render import (
    ChoiceMemory,
    merge_bubbles,
    pick_choice,
    render,
    split_text,
    unsupported_reply,
    utf8_bytes,
)

BUTTONS = (Button("法律援助", "/legal_aid_eligibility"), Button("预约咨询", "/book_consultation"))


def test_buttons_become_numbered_choices_across_bubbles() -> None:
    rendered = render([OutboundMessage(text="您好", buttons=BUTTONS[:1]),
                       OutboundMessage(text="或者", buttons=BUTTONS[1:]),
                       OutboundMessage(custom={"handoff": {}})], limit=100)
    assert rendered.texts == ("您好\n1. 法律援助\n(请回复数字选择)",
                              "或者\n2. 预约咨询\n(请回复数字选择)")
    assert rendered.choices == BUTTONS


def test_an_image_is_shown_as_its_link() -> None:
    assert render([OutboundMessage(image="https://example.org/a.png")], limit=100).texts == (
        "https://example.org/a.png",)


def test_pick_choice() -> None:
    assert pick_choice("1", BUTTONS) == BUTTONS[0]
    assert pick_choice(" ２ ", BUTTONS) == BUTTONS[1]
    assert pick_choice("2.", BUTTONS) == BUTTONS[1]
    assert pick_choice("3", BUTTONS) is None
    assert pick_choice("0", BUTTONS) is None
    assert pick_choice("1个", BUTTONS) is None
    assert pick_choice("1", ()) is None
    assert pick_choice(None, BUTTONS) is None


def test_choice_memory_expires_and_is_bounded() -> None:
    now = [0.0]
    memory = ChoiceMemory(ttl=10, max_size=2, clock=lambda: now[0])
    memory.remember("a", BUTTONS)
    memory.remember("b", BUTTONS)
    memory.remember("c", BUTTONS)
    assert memory.get("a") == () and memory.get("c") == BUTTONS
    memory.remember("c", ())
    assert memory.get("c") == ()
    now[0] = 11
    assert memory.get("b") == ()


def test_split_prefers_sentence_ends() -> None:
    assert split_text("第一句。第二句。第三句。", 8) == ["第一句。第二句。", "第三句。"]
    assert split_text("一行\n二行\n三行", 5) == ["一行\n二行", "三行"]


def test_split_by_utf8_bytes() -> None:
    chunks = split_text("法" * 1000, 2048, utf8_bytes)
    assert [len(c.encode()) for c in chunks] == [2046, 954]


@given(st.text(alphabet="法律援助abc。！？\n", max_size=400), st.integers(4, 60))
def test_split_never_exceeds_the_limit_and_keeps_every_character(text: str, limit: int) -> None:
    chunks = split_text(text, limit, utf8_bytes)
    assert all(utf8_bytes(c) <= limit for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_merge_keeps_order_and_caps_the_count() -> None:
    assert merge_bubbles(["a", "b", "c"], 5, 100) == ["a", "b", "c"]
    assert merge_bubbles(["a", "b", "c"], 2, 100) == ["a\n\nb\n\nc"]
    merged = merge_bubbles(["x" * 60, "y" * 60, "z" * 60], 2, 100)
    assert len(merged) == 2 and merged[0] == "x" * 60
    assert len(merged[1]) <= 100 and merged[1].endswith("已省略部分)")


def test_unsupported_reply_is_polite_chinese() -> None:
    assert "语音" in unsupported_reply("voice") and "12348" in unsupported_reply("voice")
    assert "这类消息" in unsupported_reply("business_card")

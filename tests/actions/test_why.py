from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.why import ActionExplainQuestion, explanation
from tests.actions.conftest import make_tracker

ROOT = Path(__file__).resolve().parents[2]


def form_questions() -> set[str]:
    """Every slot a form of the assistant asks for."""
    slots: set[str] = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for form in (domain.get("forms") or {}).values():
            slots.update(form.get("required_slots") or [])
    return slots


def test_every_question_of_the_legal_aid_and_booking_forms_is_explained() -> None:
    general = explanation(None)
    mine = {s for s in form_questions() if s.startswith(("booking_", "status_", "applicant_"))
            or s in {"matter_type", "criminal_factors", "identity", "has_proof",
                     "household_size", "household_income", "district",
                     "application_consent"}}
    assert len(mine) >= 18
    for slot in sorted(mine):
        assert explanation(slot) != general, slot


def test_the_income_question_cites_the_law() -> None:
    assert "第四十一条" in explanation("household_income")
    assert "第三十八条" in explanation("district")


async def test_the_open_question_is_explained() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("为什么要问这个", "ask_why",
                           slots={"requested_slot": "booking_phone"})
    assert await ActionExplainQuestion().run(dispatcher, tracker, {}) == []
    assert "提醒您" in dispatcher.messages[0]["text"]
    dispatcher = CollectingDispatcher()
    await ActionExplainQuestion().run(dispatcher, make_tracker("为什么", "ask_why"), {})
    assert "删除我的信息" in dispatcher.messages[0]["text"]

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.privacy import ActionDeleteMyData
from actions.session import ActionSessionStart
from tests.actions.conftest import make_tracker


async def test_a_session_opens_with_the_privacy_notice_and_keeps_slots() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(
        dispatcher, make_tracker(slots={"district": "武进区", "phone": None}),
        {"session_config": {"carry_over_slots_to_new_session": True}})
    [notice] = dispatcher.messages
    assert "个人信息保护法" in notice["text"] and "删除我的信息" in notice["text"]
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]
    assert events[1]["name"] == "district" and events[1]["value"] == "武进区"
    assert events[2]["name"] == "action_listen"


async def test_slots_are_not_carried_when_the_domain_says_so() -> None:
    events = await ActionSessionStart().run(
        CollectingDispatcher(), make_tracker(slots={"district": "武进区"}),
        {"session_config": {"carry_over_slots_to_new_session": False}})
    assert [e["event"] for e in events] == ["session_started", "action"]


async def test_deleting_asks_the_gateway_to_erase() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDeleteMyData().run(dispatcher, make_tracker(), {})
    assert dispatcher.messages[0]["text"].startswith("已删除")
    assert dispatcher.messages[1]["custom"] == {"privacy": "erase"}
    assert events == [{"event": "reset_slots", "timestamp": None}]

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions import db as actions_db
from actions.legal_aid_status import ActionApplicationStatus, ValidateApplicationStatusForm
from casedb.lookups import MAX_FAILED_TRIES
from casedb.models import ApplicationStatus
from casedb.repositories import LegalAidApplicationRepository
from tests.actions.conftest import make_tracker
from tests.conftest import Database


async def file_application(db: Database) -> str:
    async with db.sessions.begin() as session:
        application = await LegalAidApplicationRepository(session).create(
            channel="web", external_id="owner", phone="13912345678", district="武进区",
            inputs={}, outcome="likely_eligible", rules_used=[],
            status=ApplicationStatus.UNDER_REVIEW)
    return application.reference


async def look_up(reference: str, last4: str, who: str = "asker") -> str:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", "inform",
                           slots={"status_reference": reference, "status_last4": last4})
    tracker.sender_id = f"web:{who}"
    events = await ActionApplicationStatus().run(dispatcher, tracker, {})
    assert [e["name"] for e in events] == ["status_reference", "status_last4"]
    text: str = dispatcher.messages[0]["text"]
    return text


def test_references_and_digits_are_normalised() -> None:
    form, dispatcher, tracker = ValidateApplicationStatusForm(), CollectingDispatcher(), \
        make_tracker()
    assert form.validate_status_reference("我的编号是fy7k3m9qxa", dispatcher, tracker, {}) == {
        "status_reference": "FY-7K3M9QXA"}
    assert form.validate_status_reference("YY-7K3M9QXA", dispatcher, tracker, {}) == {
        "status_reference": None}
    assert form.validate_status_last4("尾号 5678", dispatcher, tracker, {}) == {
        "status_last4": "5678"}
    assert form.validate_status_last4("56789", dispatcher, tracker, {}) == {
        "status_last4": None}
    assert len(dispatcher.messages) == 2


async def test_the_right_reference_and_digits_show_the_status(action_db: Database) -> None:
    reference = await file_application(action_db)
    answer = await look_up(reference, "5678")
    assert reference in answer and "正在审查" in answer
    await actions_db.sessions().kw["bind"].dispose()


async def test_five_wrong_tries_lock_the_look_up(action_db: Database) -> None:
    reference = await file_application(action_db)
    for _ in range(MAX_FAILED_TRIES):
        assert "没有找到" in await look_up(reference, "0000")
    # Now even the right digits are refused, for this conversation and this reference.
    assert "失败次数过多" in await look_up(reference, "5678")
    assert "失败次数过多" in await look_up(reference, "5678", who="someone-else")
    await actions_db.sessions().kw["bind"].dispose()

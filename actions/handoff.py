"""Hand the conversation to staff: write a ticket with the case card, then tell the gateway.

The ticket carries what the bot learned (intent history, collected slots, the eligibility result
and its inputs, bookings and pre-applications, the channel) and the team it routes to by topic.
The gateway sees the custom payload `{"handoff": {"ticket": id, ...}}`, switches the
conversation to the queue and stops sending it to Rasa (gateway/handoff.py); it also answers
with the person's place in the queue, so this action says nothing itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import sender
from actions.db import sessions
from actions.texts import TextFile
from casedb.handoff import TicketRepository
from casedb.models import LegalAidApplication, TicketStatus
from casedb.repositories import BookingRepository, ConversationRepository

log = logging.getLogger(__name__)

TEXTS = Path(__file__).parent / "data" / "handoff.yaml"

# Slots that say nothing about the case.
NOT_IN_CARD = {"requested_slot", "session_started_metadata", "privacy_notice_shown"}
ENTERPRISE_TOPICS = {"contract", "ip", "foreign_trade", "investment", "corporate_governance"}
NOTARY_INTENTS = {"find_notary"}
STAFF_OUTCOMES = ("needs_staff_review", "mandatory_appointment")


_HANDOFF_TEXTS = TextFile(TEXTS)
handoff_data = _HANDOFF_TEXTS.data
handoff_text = _HANDOFF_TEXTS.text  # the text at `a.b.c` of actions/data/handoff.yaml


def intent_history(tracker: Tracker) -> list[str]:
    names = []
    for event in tracker.events:
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if isinstance(name, str):
                names.append(name)
    return names


def reason_for(tracker: Tracker) -> str:
    """Why a person is needed: what the person asked for, or what the law or the screen says."""
    outcome = tracker.get_slot("legal_aid_outcome")
    if outcome in STAFF_OUTCOMES:
        return str(outcome)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent in ("complain", "request_mediation"):
        return str(intent)
    history = intent_history(tracker)
    if history[-2:] == ["nlu_fallback", "nlu_fallback"] or intent == "nlu_fallback":
        return "not_understood"
    return "request_human"


def team_for(tracker: Tracker, reason: str) -> str:
    """The team by topic: complaints and mediation have their own; notary and enterprise
    matters by what the conversation was about; everything else to legal aid."""
    if reason == "complain":
        return "complaints"
    if reason == "request_mediation":
        return "mediation"
    if reason in STAFF_OUTCOMES:
        return "legal_aid"
    history = intent_history(tracker)
    if NOTARY_INTENTS & set(history[-5:]):
        return "notary"
    topic = tracker.get_slot("booking_topic")
    if topic in ENTERPRISE_TOPICS:
        return "enterprise"
    return "legal_aid"


def slots_for_card(tracker: Tracker) -> dict[str, Any]:
    return {name: value for name, value in sorted(tracker.slots.items())
            if name not in NOT_IN_CARD and value not in (None, "", [], {})}


async def case_card(tracker: Tracker) -> dict[str, Any]:
    channel, external_id = sender(tracker)
    card: dict[str, Any] = {
        "channel": channel,
        "intents": intent_history(tracker)[-20:],
        "slots": slots_for_card(tracker),
    }
    from actions.legal_aid import SCREENING_SLOTS  # here: legal_aid imports this module

    outcome = tracker.get_slot("legal_aid_outcome")
    if outcome:
        card["eligibility"] = {"outcome": outcome, "inputs": {
            name: tracker.get_slot(name) for name in SCREENING_SLOTS
            if tracker.get_slot(name) is not None}}
    async with sessions()() as session:
        bookings = await BookingRepository(session).for_conversation(channel, external_id)
        applications = list((await session.execute(
            select(LegalAidApplication).where(LegalAidApplication.channel == channel,
                                              LegalAidApplication.external_id == external_id)
            .order_by(LegalAidApplication.id))).scalars())
    if bookings:
        card["bookings"] = [{"code": b.code, "contact_point": b.contact_point_code,
                             "slot_start": b.slot_start.isoformat(), "topic": b.topic}
                            for b in bookings]
    if applications:
        card["applications"] = [{"reference": a.reference, "outcome": a.outcome,
                                 "status": a.status.value} for a in applications]
    return card


async def open_ticket(tracker: Tracker, team: str, reason: str,
                      card: dict[str, Any]) -> int:
    """The conversation's open ticket, or a new queued one."""
    channel, external_id = sender(tracker)
    async with sessions().begin() as session:
        conversation = await ConversationRepository(session).get_or_create(channel, external_id)
        tickets = TicketRepository(session)
        ticket = await tickets.open_for(conversation.id)
        if ticket is None:
            ticket = await tickets.create(conversation, team=team, reason=reason, case_card=card)
        return ticket.id


async def file_ticket(tracker: Tracker, *, team: str, kind: str,
                      form: dict[str, Any]) -> int:
    """A ticket the team follows up on later (complaint, mediation), not a live chat."""
    card = await case_card(tracker)
    card["form"] = form
    channel, external_id = sender(tracker)
    async with sessions().begin() as session:
        conversation = await ConversationRepository(session).get_or_create(channel, external_id)
        ticket = await TicketRepository(session).create(
            conversation, team=team, reason=kind, case_card=card, kind=kind,
            status=TicketStatus.CALLBACK)
        return ticket.id


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, *,
                   reason: str | None = None,
                   eligibility: dict[str, Any] | None = None) -> None:
    """Write the ticket and send the gateway the handoff payload (any action may call this
    when it decides a person is needed)."""
    reason = reason or reason_for(tracker)
    team = team_for(tracker, reason)
    spec: dict[str, Any] = {"team": team, "reason": reason}
    try:
        card = await case_card(tracker)
        if eligibility is not None:
            card["eligibility"] = eligibility
        spec["ticket"] = await open_ticket(tracker, team, reason, card)
    except Exception:  # the gateway opens the ticket itself from the spec
        log.exception("could not write the handoff ticket for %s", tracker.sender_id)
        spec["case_card"] = {"intents": intent_history(tracker)[-20:],
                             "slots": slots_for_card(tracker)}
    dispatcher.utter_message(json_message={"handoff": spec})


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        await hand_off(dispatcher, tracker)
        return [ActiveLoop(None), SlotSet("requested_slot", None)]

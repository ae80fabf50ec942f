"""The notary office finder (issue 6): which office, and what to bring, pay, wait, and whether
someone else may go.

Thin on purpose: the matter and the places are read by `domain.notary` (taxonomy keywords,
district roles), the jurisdiction (公证法 Art. 25) and ranking are `domain.notary.search`, the
offices come from `casedb.notary`. `notary_form` asks for what is missing (the matter, then
where the person lives or where the property lies); `action_show_notary_offices` shows at most
three offices and keeps them in `notary_shown_*` slots, which `action_notary_followup` (and
`action_answer_faq`) use to answer "要带什么材料", "多少钱", "多久能拿到", "周末开门吗",
"能代办吗" for the matter and offices just shown.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import reset_events
from actions.db import sessions
from casedb.directory import districts
from casedb.notary import load_offices
from domain.booking import default_calendar
from domain.notary import (
    Basis,
    Destination,
    Found,
    Jurisdiction,
    MatterRule,
    Mention,
    Missing,
    Office,
    Result,
    decide,
    destination,
    find_districts,
    for_use_abroad,
    open_now,
    read_places,
    search,
    taxonomy,
)
from domain.notary import texts as notary_texts
from domain.notary.texts import texts

log = logging.getLogger(__name__)

FORM_SLOTS = ("notary_matter", "notary_district", "notary_basis", "notary_property",
              "notary_destination")
SHOWN_SLOTS = ("notary_shown", "notary_shown_matter", "notary_shown_offices",
               "notary_shown_destination")
# Matter buttons when the message names none; 涉外 alone asks which document.
ASK_MATTERS = ("education_abroad", "inheritance", "will", "power_of_attorney",
               "evidence_preservation", "contract", "debt_enforcement", "escrow", "corporate",
               "copy_signature")
ASK_ABROAD = ("education_abroad", "no_criminal_record", "kinship", "birth", "marital_status",
              "survival")
# People whose notary fees are reduced or waived (公证法 Art. 34: 符合法律援助条件的当事人).
LEGAL_AID_GROUPS = {"social_assistance", "low_income", "orphan"}


def now() -> datetime:
    """The clock of the notary actions (tests monkeypatch it)."""
    return datetime.now(UTC)


def _text(tracker: Tracker) -> str:
    """The latest message, or "" for a button payload ("/inform{...}")."""
    raw = str(tracker.latest_message.get("text") or "").strip()
    return "" if raw.startswith("/") else raw


def _entity(tracker: Tracker, name: str) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def mentions(tracker: Tracker) -> list[Mention]:
    """Districts in the latest message: the NLU's (synonyms such as 湖塘 included) and any
    district name the NLU missed."""
    text = _text(tracker)
    names = districts()
    found: list[Mention] = []
    for entity in tracker.latest_message.get("entities") or []:
        value = names.get(str(entity.get("value") or ""))
        if entity.get("entity") != "district" or value is None:
            continue
        start, end = entity.get("start"), entity.get("end")
        if text and isinstance(start, int) and isinstance(end, int):
            found.append(Mention(start, end, value))
        else:
            found.append(Mention(0, 0, value))
    for mention in find_districts(text, names):
        if not any(m.start < mention.end and mention.start < m.end for m in found):
            found.append(mention)
    return sorted(found, key=lambda m: m.start)


def involves_property(tracker: Tracker) -> bool:
    return bool(tracker.get_slot("notary_property")) or \
        taxonomy().mentions_property(_text(tracker))


def question_for(matter: MatterRule | None, involved: bool) -> Missing:
    """Which district question `action_ask_notary_district` asks (and an answer answers)."""
    if matter is not None and matter.property_rule and involved:
        return Missing.PROPERTY
    return Missing.PLACE


def jurisdiction(tracker: Tracker) -> Jurisdiction | Missing:
    matter = taxonomy().get(tracker.get_slot("notary_matter"))
    involved = involves_property(tracker)
    answer_to = question_for(matter, involved) \
        if tracker.get_slot("requested_slot") == "notary_district" else None
    return decide(matter, read_places(_text(tracker), mentions(tracker)),
                  involves_property=involved, answer_to=answer_to)


def matter_buttons(codes: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"title": taxonomy().matters[c].name,
             "payload": "/inform" + json.dumps({"notary_matter": c}, ensure_ascii=False)}
            for c in codes]


class ValidateNotaryForm(FormValidationAction):
    def name(self) -> str:
        return "validate_notary_form"

    async def extract_notary_matter(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        chosen = _entity(tracker, "notary_matter")
        if chosen in taxonomy().matters:
            return {"notary_matter": chosen}
        service = _entity(tracker, "notary_service")
        if service not in taxonomy().defaults:  # a surface form no synonym maps
            service = None
        if tracker.get_slot("notary_matter") and service is None:
            return {}  # an answer to the district question does not change the matter
        found = taxonomy().resolve(_text(tracker), service)
        return {"notary_matter": found.code} if found else {}

    async def extract_notary_district(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        decided = jurisdiction(tracker)
        return {"notary_district": decided.district} \
            if isinstance(decided, Jurisdiction) else {}

    def validate_notary_matter(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        matter = taxonomy().get(str(value))
        if matter is None:
            dispatcher.utter_message(text=texts().get("ask.invalid_matter"))
            return {"notary_matter": None}
        involved = involves_property(tracker)
        slots: dict[str, Any] = {"notary_matter": matter.code, "notary_property": involved}
        place = destination(_text(tracker))
        if place is not None:
            slots["notary_destination"] = place.country
        # The property came up after a district was taken as the person's own: ask where
        # the property lies (Art. 25), unless this message names a district too.
        if matter.property_rule and involved and tracker.get_slot("notary_district") and \
                tracker.get_slot("notary_basis") != Basis.PROPERTY.value and \
                "notary_district" not in tracker.slots_to_validate():
            slots.update(notary_district=None, notary_basis=None)
        return slots

    def validate_notary_district(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        district = districts().get(str(value))
        if district is None:
            dispatcher.utter_message(text=texts().get("ask.invalid_district"))
            return {"notary_district": None}
        decided = jurisdiction(tracker)
        basis = decided.basis if isinstance(decided, Jurisdiction) and \
            decided.district == district else Basis.NAMED
        return {"notary_district": district, "notary_basis": basis.value,
                "notary_property": involves_property(tracker)}


class ActionAskNotaryMatter(Action):
    def name(self) -> str:
        return "action_ask_notary_matter"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        abroad = _entity(tracker, "notary_service") == "foreign_related" or \
            for_use_abroad(_text(tracker))
        key = "ask.matter_abroad" if abroad else "ask.matter"
        dispatcher.utter_message(text=texts().get(key),
                                 buttons=matter_buttons(ASK_ABROAD if abroad else ASK_MATTERS))
        return []


class ActionAskNotaryDistrict(Action):
    def name(self) -> str:
        return "action_ask_notary_district"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        matter = taxonomy().get(tracker.get_slot("notary_matter"))
        involved = bool(tracker.get_slot("notary_property"))
        if question_for(matter, involved) is Missing.PROPERTY and matter is not None:
            message = texts().get("ask.property", matter=matter.name)
        elif matter is not None and matter.property_rule:
            message = texts().get("ask.residence_or_property")
        else:
            message = texts().get("ask.residence")
        dispatcher.utter_message(text=message, buttons=[
            {"title": d, "payload": "/inform" + json.dumps({"district": d}, ensure_ascii=False)}
            for d in texts().data["district_buttons"]])
        return []


def _abroad(result: Result, destination_name: str | None) -> bool:
    terms = result.terms()
    return result.matter.abroad or bool(terms and terms.for_use_abroad) or \
        destination_name is not None


def _destination(name: str | None) -> Destination | None:
    return destination(name) if name else None


class ActionShowNotaryOffices(Action):
    def name(self) -> str:
        return "action_show_notary_offices"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        matter = taxonomy().get(tracker.get_slot("notary_matter"))
        district = districts().get(str(tracker.get_slot("notary_district") or ""))
        if matter is None or district is None:  # not reached through the form
            dispatcher.utter_message(text=texts().get("ask.invalid_matter"),
                                     buttons=matter_buttons(ASK_MATTERS))
            return reset_events(FORM_SLOTS)
        try:
            basis = Basis(str(tracker.get_slot("notary_basis")))
        except ValueError:
            basis = Basis.NAMED
        try:
            offices = await load_offices(sessions())
        except (SQLAlchemyError, OSError) as exc:
            log.error("notary offices unavailable: %s", exc)
            dispatcher.utter_message(text=texts().get("unavailable"),
                                     buttons=list(texts().data["no_match_buttons"]))
            return reset_events(FORM_SLOTS)
        result = search(offices, matter, Jurisdiction(district, basis), now(),
                        default_calendar())
        place = tracker.get_slot("notary_destination")
        shown = show(dispatcher, result, place)
        return [*reset_events(FORM_SLOTS), SlotSet("notary_shown", True),
                SlotSet("notary_shown_matter", matter.code),
                SlotSet("notary_shown_offices", [f.office.code for f in shown]),
                SlotSet("notary_shown_destination", place)]


def show(dispatcher: CollectingDispatcher, result: Result,
         place: str | None) -> list[Found]:
    """Utter the result: the Art. 25 line, up to three cards (text, and the same as data for
    channels that draw cards), the Apostille note, the follow-up hint. Returns what was
    shown."""
    matter, where = result.matter, result.jurisdiction
    if not result.offices:
        if result.fallback is None:
            dispatcher.utter_message(
                text=texts().get("no_match_city", district=where.district, matter=matter.name),
                buttons=list(texts().data["no_match_buttons"]))
            return []
        dispatcher.utter_message(
            text="\n".join([texts().get("no_match", district=where.district,
                                        matter=matter.name),
                            notary_texts.card(1, result.fallback)]),
            buttons=list(texts().data["no_match_buttons"]))
        dispatcher.utter_message(json_message={
            "notary_offices": [notary_texts.card_data(result.fallback)],
            "matter": matter.code, "match": False})
        return [result.fallback]
    dispatcher.utter_message(text="\n".join([
        notary_texts.explanation(result),
        texts().get("found", count=len(result.offices), matter=matter.name)]))
    for index, found in enumerate(result.offices, 1):
        dispatcher.utter_message(text=notary_texts.card(index, found))
    dispatcher.utter_message(json_message={
        "notary_offices": [notary_texts.card_data(f) for f in result.offices],
        "matter": matter.code, "match": True})
    closing = []
    if _abroad(result, place):
        closing.append(notary_texts.abroad_answer(_destination(place)))
    closing.append(texts().get("followup_hint"))
    if any(f.office.is_sample for f in result.offices):
        closing.append(texts().get("sample_note"))
    dispatcher.utter_message(text="\n".join(closing))
    return list(result.offices)


# --- follow-up questions about the matter and offices just shown ------------------------------

ASPECT_WORDS = (
    ("agent", ("代办", "代理", "别人", "他人", "本人", "亲自", "家人去", "家属去", "帮我去")),
    ("hours", ("周末", "周六", "周日", "星期六", "星期天", "星期日", "开门", "几点", "上班",
               "下班", "营业", "节假日", "办公时间", "关门", "休息")),
    ("abroad", ("认证", "海牙", "附加证明书", "apostille", "Apostille", "领事")),
    ("fee", ("多少钱", "费用", "收费", "价格", "贵", "花多少", "减免", "免费", "公证费", "钱")),
    ("time", ("多久", "几天", "多长时间", "多少天", "加急", "出证", "拿到", "工作日", "周期",
              "来得及", "当天")),
    ("documents", ("材料", "带什么", "带哪些", "资料", "证件", "准备什么", "准备哪些", "手续",
                   "原件", "复印件", "户口本", "东西")),
)
# FAQ keys that are a question about the matter just shown; the legal aid ones only when
# the question does not name legal aid ("要带什么材料" right after the offices).
KEY_ASPECTS = {"notary_materials": "documents", "notary_fees": "fee",
               "notary_timeline": "time", "working_hours": "hours",
               "legal_aid_materials": "documents", "legal_aid_timeline": "time"}
LEGAL_AID_WORDS = ("援助", "法援")


def aspect_of(text: str, key: str | None) -> str | None:
    """Which follow-up a question asks, or None when it is not about the notary matter."""
    if key not in KEY_ASPECTS or any(w in text for w in LEGAL_AID_WORDS):
        return None
    for aspect, words in ASPECT_WORDS:
        if any(word in text for word in words):
            return aspect
    return KEY_ASPECTS[key]


def legal_aid_eligible(tracker: Tracker) -> bool:
    identities = set(tracker.get_slot("identity") or ())
    identities.update(str(e.get("value")) for e in tracker.latest_message.get("entities") or []
                      if e.get("entity") == "identity")
    return tracker.get_slot("legal_aid_outcome") == "likely_eligible" or \
        bool(identities & LEGAL_AID_GROUPS)


async def followup_answer(tracker: Tracker, key: str | None) -> str | None:
    """The answer for the matter and offices just shown, or None (answer the FAQ as usual)."""
    matter = taxonomy().get(tracker.get_slot("notary_shown_matter"))
    aspect = aspect_of(_text(tracker), key)
    if matter is None or aspect is None:
        return None
    codes = [str(c) for c in tracker.get_slot("notary_shown_offices") or ()]
    offices: list[Office] = []
    if codes:
        try:
            offices = await load_offices(sessions(), codes)
        except (SQLAlchemyError, OSError) as exc:
            log.error("notary offices unavailable for a follow-up: %s", exc)
    offices.sort(key=lambda o: codes.index(o.code) if o.code in codes else len(codes))
    terms = next((o.matters[matter.code] for o in offices if matter.code in o.matters), None)
    place = tracker.get_slot("notary_shown_destination")
    if aspect == "documents":
        first = offices[0] if offices else None
        answer = notary_texts.documents_answer(
            matter, terms, first.name if first else texts().get("the_office"),
            first.phone if first else None)
        if matter.personal or (terms and terms.in_person):
            answer += "\n" + notary_texts.agent_answer(matter, terms)
        return answer
    if aspect == "fee":
        return notary_texts.fee_answer(matter, terms,
                                       legal_aid_eligible=legal_aid_eligible(tracker))
    if aspect == "time":
        abroad = matter.abroad or bool(terms and terms.for_use_abroad) or bool(place)
        return notary_texts.time_answer(matter, terms, abroad=abroad)
    if aspect == "hours":
        if not offices:
            return None
        return notary_texts.hours_answer(
            [Found(o, open_now(o.hours, now(), default_calendar())) for o in offices])
    if aspect == "abroad":
        return notary_texts.abroad_answer(_destination(place) or destination(_text(tracker)))
    return notary_texts.agent_answer(matter, terms)


def faq_key(tracker: Tracker) -> str | None:
    selector = tracker.latest_message.get("response_selector") or {}
    selected = selector.get("faq") or selector.get("default") or {}
    name = (selected.get("response") or {}).get("intent_response_key")
    if isinstance(name, str) and "/" in name:
        return name.split("/", 1)[1]
    return None


class ActionNotaryFollowup(Action):
    """A FAQ question after offices were shown: about them if it is, else the usual answer."""

    def name(self) -> str:
        return "action_notary_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        key = faq_key(tracker)
        answer = await followup_answer(tracker, key)
        if answer is not None:
            dispatcher.utter_message(text=answer)
        elif key and f"utter_faq/{key}" in (domain.get("responses") or {}):
            dispatcher.utter_message(response=f"utter_faq/{key}")
        else:
            dispatcher.utter_message(response="utter_rephrase")
        return []


class ActionNotaryReset(Action):
    """Forget the finder's answers (the person left the form)."""

    def name(self) -> str:
        return "action_notary_reset"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        return reset_events(FORM_SLOTS)


"""Entry/exit information (出入境信息一键通): entry controls by country, port status.

Also in English (docs/english.md): the actions pass every value in both languages and the domain's variation for
the conversation's language (slot `language`) picks its own; only the suggestion buttons' titles, built here, are
chosen by the language.
"""

from __future__ import annotations

import json
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.english import in_english
from actions.form_base import GovFormValidationAction, SlotSpec, Updates
from actions.validators.common import (
    Invalid,
    Result,
    Valid,
)
from actions.wording import Wording
from integrations.services import ServiceRejected, ServiceUnavailable
from integrations.services.immigration import CountryMeasures, PortStatus, english_suggestions

# The port slot's value for "which ports are closed?": a marker the answer action recognises, not a port.
SUSPENDED_PORTS = "暂停客运的口岸"
ASKS_SUSPENDED = re.compile(
    r"(暂停|关闭|关停|停止|不能|没开|未开放|封).{0,6}(口岸|通关|过关)|哪些口岸|哪几个口岸"
    r"|\b(closed|suspended|shut)\b.{0,20}\bports?\b|\bports?\b.{0,30}\b(closed|suspended|shut)\b",
    re.IGNORECASE,
)
# What an English answer says around the name: "I'm flying to the US, please" -> "US".
ENGLISH_AROUND = re.compile(
    r"^(i want to go to|i(’|')?d like to go to|i(’|')?m going to|i am going to|we(’|')?re going to|going to"
    r"|i(’|')?m flying to|flying to|travell?ing to|heading to|what about|how about|and|to|for|in|it(’|')?s|it is"
    r"|the)\s+|[\s,]+(please|pls|thanks|thank you)$",
    re.IGNORECASE,
)


def name_given(text: str) -> Result:
    cleaned = re.sub(r"^(我要去|我想去|去|到|是|查)|(吧|呢|的|。|！|？|\?|!|\.)+$", "", text.strip())
    previous = None
    while previous != cleaned:  # "I'm going to the US please": each English filler in turn
        previous, cleaned = cleaned, ENGLISH_AROUND.sub("", cleaned).strip()
    if not cleaned or len(cleaned) > 30:
        return Invalid("utter_invalid_name_given")
    return Valid(cleaned)


def suggestion_buttons(intent: str, entity: str, names: list[str], titles: list[str] | None = None) -> list[dict]:
    """One button per suggested name; the payload always carries the canonical (Chinese) name, the title may be
    the English one."""
    shown = titles or names
    return [
        {"title": shown[i], "payload": f"/{intent}{json.dumps({entity: n}, ensure_ascii=False)}"}
        for i, n in enumerate(names[:5])
    ]


def _en(english: str | None, chinese: str) -> str:
    """The English text, or the Chinese one where the service has no translation (better than nothing)."""
    return english if english else chinese


def tell_measures(m: CountryMeasures, words: Wording, dispatcher: CollectingDispatcher) -> None:
    if m.quarantine_days:
        quarantine = words.part("utter_entry_quarantine_days", days=m.quarantine_days)
    else:
        quarantine = words.part("utter_entry_no_quarantine")
    notes_en = _en(m.notes_en, m.notes)
    dispatcher.utter_message(
        response="utter_entry_measures",
        country=m.country,
        english_name=m.english_name,
        entry_status=m.entry_status_text,
        entry_status_en=_en(m.entry_status_text_en, m.entry_status_text),
        quarantine=quarantine,
        test_requirement=m.test_requirement,
        test_requirement_en=_en(m.test_requirement_en, m.test_requirement),
        visa_status=m.visa_status,
        visa_status_en=_en(m.visa_status_en, m.visa_status),
        flights=m.flights,
        flights_en=_en(m.flights_en, m.flights),
        notes=words.part("utter_note_line", notes=m.notes, notes_en=notes_en) if m.notes else "",
        updated_at=m.updated_at,
        source=m.source,
        source_en=_en(m.source_en, m.source),
    )


def _port_values(p: PortStatus) -> dict[str, str]:
    """What a port's line and its full answer both name, in Chinese and in English."""
    return {
        "port": p.port, "port_en": _en(p.english_name, p.port),
        "city": p.city, "city_en": _en(p.city_en, p.city),
        "passenger_status": p.passenger_status_text,
        "passenger_status_en": _en(p.passenger_status_text_en, p.passenger_status_text),
    }


def tell_port(p: PortStatus, words: Wording, dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        response="utter_port_status",
        **_port_values(p),
        cargo_status=p.cargo_status_text,
        cargo_status_en=_en(p.cargo_status_text_en, p.cargo_status_text),
        hours=p.hours,
        hours_en=_en(p.hours_en, p.hours),
        notes=words.part("utter_note_line", notes=p.notes, notes_en=_en(p.notes_en, p.notes)) if p.notes else "",
        updated_at=p.updated_at,
        source=p.source,
        source_en=_en(p.source_en, p.source),
    )


def tell_suspended_ports(ports: list[PortStatus], words: Wording, dispatcher: CollectingDispatcher) -> None:
    if not ports:
        dispatcher.utter_message(response="utter_suspended_ports_none")
        return
    lines = [
        words.part("utter_suspended_port_line", **_port_values(p))
        for p in ports
    ]
    dispatcher.utter_message(response="utter_suspended_ports", ports="\n".join(lines))


def _titles(error: ServiceRejected, english: bool) -> list[str] | None:
    return english_suggestions(error) if english else None


def offer_countries(name: str, error: ServiceRejected, dispatcher: CollectingDispatcher, english: bool) -> None:
    """The service did not know the name: say so and offer its suggestions as buttons."""
    dispatcher.utter_message(
        response="utter_country_unknown_suggestions" if error.suggestions else "utter_country_unknown",
        given_name=name,
        buttons=suggestion_buttons("entry_control_query", "country_region", error.suggestions, _titles(error, english)),
    )


def offer_ports(name: str, error: ServiceRejected, dispatcher: CollectingDispatcher, english: bool) -> None:
    dispatcher.utter_message(
        response="utter_port_unknown",
        given_name=name,
        buttons=suggestion_buttons("port_status_query", "port", error.suggestions, _titles(error, english)),
    )


async def reply_country(name: str, tracker: Tracker, words: Wording, dispatcher: CollectingDispatcher) -> str:
    """Answer for one country, or offer suggestions when the name is unknown; returns the result status."""
    try:
        measures = await services.immigration().get_country(name)
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error, "utter_service_unavailable")
        return "error"
    except ServiceRejected as error:
        if error.code == "unknown_country":
            offer_countries(name, error, dispatcher, in_english(tracker))
        else:
            services.tell_refused(dispatcher, error)
        return "rejected"
    tell_measures(measures, words, dispatcher)
    return "completed"


async def reply_port(name: str, tracker: Tracker, words: Wording, dispatcher: CollectingDispatcher) -> str:
    """Answer for one port (or the list of suspended ones), or offer suggestions when unknown; returns the
    result status."""
    try:
        if name == SUSPENDED_PORTS:
            ports = await services.immigration().list_ports(passenger_status="suspended")
            tell_suspended_ports(ports, words, dispatcher)
            return "completed"
        port = await services.immigration().get_port(name)
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error, "utter_service_unavailable")
        return "error"
    except ServiceRejected as error:
        if error.code == "unknown_port":
            offer_ports(name, error, dispatcher, in_english(tracker))
        else:
            services.tell_refused(dispatcher, error)
        return "rejected"
    tell_port(port, words, dispatcher)
    return "completed"


async def answer_entry_control_digression(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> bool:
    name = next(tracker.get_latest_entity_values("country_region"), None)
    if name:
        await reply_country(name, tracker, Wording(domain, tracker), dispatcher)
    return bool(name)


async def answer_port_status_digression(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> bool:
    name = next(tracker.get_latest_entity_values("port"), None)
    if name:
        await reply_port(name, tracker, Wording(domain, tracker), dispatcher)
    return bool(name)


class ValidateEntryControlForm(GovFormValidationAction):
    specs = {
        "country_region": SlotSpec(
            name_given, "utter_explain_country_region", entity="country_region", free_text=True
        )
    }

    def name(self) -> str:
        return "validate_entry_control_form"

    async def after_country_region(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        try:
            measures = await services.immigration().get_country(value)
        except ServiceUnavailable:
            return {"country_region": value}  # the answer action reports the outage
        except ServiceRejected as error:
            if error.code == "unknown_country":
                offer_countries(value, error, dispatcher, in_english(tracker))
                return {"country_region": None}
            return {"country_region": value}
        return {"country_region": measures.country}


class ActionEntryControlAnswer(Action):
    def name(self) -> str:
        return "action_entry_control_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        country = tracker.get_slot("country_region")
        status = await reply_country(country, tracker, Wording(domain, tracker), dispatcher)
        return [services.result_event("entry_control", status)]


class ValidatePortStatusForm(GovFormValidationAction):
    specs = {
        "port": SlotSpec(name_given, "utter_explain_port", entity="port", free_text=True)
    }

    def name(self) -> str:
        return "validate_port_status_form"

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        text = tracker.latest_message.get("text") or ""
        if "port" not in from_entities and ASKS_SUSPENDED.search(text):
            candidates["port"] = SUSPENDED_PORTS
            from_entities.add("port")
        return candidates, from_entities

    async def after_port(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == SUSPENDED_PORTS:
            return {"port": value}
        try:
            port = await services.immigration().get_port(value)
        except ServiceUnavailable:
            return {"port": value}
        except ServiceRejected as error:
            if error.code == "unknown_port":
                offer_ports(value, error, dispatcher, in_english(tracker))
                return {"port": None}
            return {"port": value}
        return {"port": port.port}


class ActionPortStatusAnswer(Action):
    def name(self) -> str:
        return "action_port_status_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        port = tracker.get_slot("port")
        status = await reply_port(port, tracker, Wording(domain, tracker), dispatcher)
        result = services.result_event("port_status", status)
        # The list of suspended ports is a one-off question, not a port to remember.
        return [result, SlotSet("port", None)] if port == SUSPENDED_PORTS else [result]

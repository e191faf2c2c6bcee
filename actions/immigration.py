"""Entry/exit information (出入境信息一键通): entry controls by country, port status."""

from __future__ import annotations

import json
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import GovFormValidationAction, SlotSpec, Updates
from actions.validators.common import (
    Invalid,
    Result,
    Valid,
)
from actions.wording import Wording
from integrations.services import ServiceRejected, ServiceUnavailable
from integrations.services.immigration import CountryMeasures, PortStatus

# The port slot's value for "which ports are closed?": a marker the answer action recognises, not a port.
SUSPENDED_PORTS = "暂停客运的口岸"
ASKS_SUSPENDED = re.compile(r"(暂停|关闭|关停|停止|不能|没开|未开放|封).{0,6}(口岸|通关|过关)|哪些口岸|哪几个口岸")


def name_given(text: str) -> Result:
    cleaned = re.sub(r"^(我要去|我想去|去|到|是|查)|(吧|呢|的|。|！|？|\?)+$", "", text.strip())
    if not cleaned or len(cleaned) > 30:
        return Invalid("utter_invalid_name_given")
    return Valid(cleaned)


def suggestion_buttons(intent: str, entity: str, names: list[str]) -> list[dict]:
    return [
        {"title": n, "payload": f"/{intent}{json.dumps({entity: n}, ensure_ascii=False)}"} for n in names[:5]
    ]


def tell_measures(m: CountryMeasures, words: Wording, dispatcher: CollectingDispatcher) -> None:
    if m.quarantine_days:
        quarantine = words.part("utter_entry_quarantine_days", days=m.quarantine_days)
    else:
        quarantine = words.part("utter_entry_no_quarantine")
    dispatcher.utter_message(
        response="utter_entry_measures",
        country=m.country,
        english_name=m.english_name,
        entry_status=m.entry_status_text,
        quarantine=quarantine,
        test_requirement=m.test_requirement,
        visa_status=m.visa_status,
        flights=m.flights,
        notes=words.part("utter_note_line", notes=m.notes) if m.notes else "",
        updated_at=m.updated_at,
        source=m.source,
    )


def tell_port(p: PortStatus, words: Wording, dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        response="utter_port_status",
        port=p.port,
        city=p.city,
        passenger_status=p.passenger_status_text,
        cargo_status=p.cargo_status_text,
        hours=p.hours,
        notes=words.part("utter_note_line", notes=p.notes) if p.notes else "",
        updated_at=p.updated_at,
        source=p.source,
    )


def tell_suspended_ports(ports: list[PortStatus], words: Wording, dispatcher: CollectingDispatcher) -> None:
    if not ports:
        dispatcher.utter_message(response="utter_suspended_ports_none")
        return
    lines = [
        words.part("utter_suspended_port_line", port=p.port, city=p.city, passenger_status=p.passenger_status_text)
        for p in ports
    ]
    dispatcher.utter_message(response="utter_suspended_ports", ports="\n".join(lines))


def offer_countries(name: str, error: ServiceRejected, dispatcher: CollectingDispatcher) -> None:
    """The service did not know the name: say so and offer its suggestions as buttons."""
    dispatcher.utter_message(
        response="utter_country_unknown_suggestions" if error.suggestions else "utter_country_unknown",
        given_name=name,
        buttons=suggestion_buttons("entry_control_query", "country_region", error.suggestions),
    )


def offer_ports(name: str, error: ServiceRejected, dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        response="utter_port_unknown",
        given_name=name,
        buttons=suggestion_buttons("port_status_query", "port", error.suggestions),
    )


async def reply_country(name: str, words: Wording, dispatcher: CollectingDispatcher) -> str:
    """Answer for one country, or offer suggestions when the name is unknown; returns the result status."""
    try:
        measures = await services.immigration().get_country(name)
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error, "utter_service_unavailable")
        return "error"
    except ServiceRejected as error:
        if error.code == "unknown_country":
            offer_countries(name, error, dispatcher)
        else:
            services.tell_refused(dispatcher, error)
        return "rejected"
    tell_measures(measures, words, dispatcher)
    return "completed"


async def reply_port(name: str, words: Wording, dispatcher: CollectingDispatcher) -> str:
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
            offer_ports(name, error, dispatcher)
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
        await reply_country(name, Wording(domain, tracker), dispatcher)
    return bool(name)


async def answer_port_status_digression(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> bool:
    name = next(tracker.get_latest_entity_values("port"), None)
    if name:
        await reply_port(name, Wording(domain, tracker), dispatcher)
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
                offer_countries(value, error, dispatcher)
                return {"country_region": None}
            return {"country_region": value}
        return {"country_region": measures.country}


class ActionEntryControlAnswer(Action):
    def name(self) -> str:
        return "action_entry_control_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        status = await reply_country(tracker.get_slot("country_region"), Wording(domain, tracker), dispatcher)
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
                offer_ports(value, error, dispatcher)
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
        result = services.result_event("port_status", await reply_port(port, Wording(domain, tracker), dispatcher))
        # The list of suspended ports is a one-off question, not a port to remember.
        return [result, SlotSet("port", None)] if port == SUSPENDED_PORTS else [result]

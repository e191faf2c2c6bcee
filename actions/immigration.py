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
from actions.validators import Invalid, Result, Valid
from integrations.services import ServiceRejected, ServiceUnavailable
from integrations.services.immigration import CountryMeasures, PortStatus

SUSPENDED_PORTS = "暂停客运的口岸"
ASKS_SUSPENDED = re.compile(r"(暂停|关闭|关停|停止|不能|没开|未开放|封).{0,6}(口岸|通关|过关)|哪些口岸|哪几个口岸")


def name_given(text: str) -> Result:
    cleaned = re.sub(r"^(我要去|我想去|去|到|是|查)|(吧|呢|的|。|！|？|\?)+$", "", text.strip())
    if not cleaned or len(cleaned) > 30:
        return Invalid("请告诉我具体的名称")
    return Valid(cleaned)


def suggestion_buttons(intent: str, entity: str, names: list[str]) -> list[dict]:
    return [
        {"title": n, "payload": f"/{intent}{json.dumps({entity: n}, ensure_ascii=False)}"} for n in names[:5]
    ]


def measures_text(m: CountryMeasures) -> str:
    quarantine = f"{m.quarantine_days}天" if m.quarantine_days else "无需隔离"
    return (
        f"{m.country}（{m.english_name}）入境管控措施：\n"
        f"入境政策：{m.entry_status_text}\n"
        f"隔离要求：{quarantine}\n"
        f"检测要求：{m.test_requirement}\n"
        f"签证：{m.visa_status}\n"
        f"航班：{m.flights}\n"
        + (f"提示：{m.notes}\n" if m.notes else "")
        + f"信息日期：{m.updated_at}，来源：{m.source}。出行前请再向航空公司和目的地使领馆确认。"
    )


def port_text(p: PortStatus) -> str:
    return (
        f"{p.port}（{p.city}）通关状态：\n"
        f"旅客通关：{p.passenger_status_text}\n"
        f"货物通关：{p.cargo_status_text}\n"
        f"通关时间：{p.hours}\n"
        + (f"提示：{p.notes}\n" if p.notes else "")
        + f"信息日期：{p.updated_at}，来源：{p.source}。"
    )


def offer_countries(name: str, error: ServiceRejected, dispatcher: CollectingDispatcher) -> None:
    """The service did not know the name: say so and offer its suggestions as buttons."""
    hint = (
        "您是想查询以下国家或地区吗？请点击选择，或重新输入名称。"
        if error.suggestions
        else "请核对名称后重新输入，例如：日本、新加坡、阿联酋。"
    )
    dispatcher.utter_message(
        text=f"抱歉，没有找到“{name}”的入境政策信息。{hint}",
        buttons=suggestion_buttons("entry_control_query", "country_region", error.suggestions),
    )


def offer_ports(name: str, error: ServiceRejected, dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        text=f"抱歉，没有找到“{name}”这个口岸。您是想查询以下口岸吗？也可以输入口岸全称，例如：深圳罗湖口岸。",
        buttons=suggestion_buttons("port_status_query", "port", error.suggestions),
    )


async def reply_country(name: str, dispatcher: CollectingDispatcher) -> str:
    """Answer for one country, or offer suggestions when the name is unknown; returns the result status."""
    try:
        measures = await services.immigration().get_country(name)
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error)
        return "error"
    except ServiceRejected as error:
        if error.code == "unknown_country":
            offer_countries(name, error, dispatcher)
        else:
            dispatcher.utter_message(text=error.message)
        return "rejected"
    dispatcher.utter_message(text=measures_text(measures))
    return "completed"


async def reply_port(name: str, dispatcher: CollectingDispatcher) -> str:
    """Answer for one port (or the list of suspended ones), or offer suggestions when unknown; returns the
    result status."""
    try:
        if name == SUSPENDED_PORTS:
            ports = await services.immigration().list_ports(passenger_status="suspended")
            listing = "\n".join(f"· {p.port}（{p.city}）：{p.passenger_status_text}" for p in ports)
            dispatcher.utter_message(text=f"目前暂停旅客通关的口岸：\n{listing or '暂无'}")
            return "completed"
        port = await services.immigration().get_port(name)
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error)
        return "error"
    except ServiceRejected as error:
        if error.code == "unknown_port":
            offer_ports(name, error, dispatcher)
        else:
            dispatcher.utter_message(text=error.message)
        return "rejected"
    dispatcher.utter_message(text=port_text(port))
    return "completed"


async def answer_entry_control_digression(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> bool:
    name = next(tracker.get_latest_entity_values("country_region"), None)
    if name:
        await reply_country(name, dispatcher)
    return bool(name)


async def answer_port_status_digression(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> bool:
    name = next(tracker.get_latest_entity_values("port"), None)
    if name:
        await reply_port(name, dispatcher)
    return bool(name)


class ValidateEntryControlForm(GovFormValidationAction):
    specs = {
        "country_region": SlotSpec(
            name_given, "请输入国家或地区的中文名称，例如：日本、新加坡、阿联酋、香港",
            entity="country_region", free_text=True,
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
        status = await reply_country(tracker.get_slot("country_region"), dispatcher)
        return [services.result_event("entry_control", status)]


class ValidatePortStatusForm(GovFormValidationAction):
    specs = {
        "port": SlotSpec(
            name_given, "请输入口岸名称，例如：罗湖口岸、拱北口岸、浦东机场；或回复“暂停的口岸”",
            entity="port", free_text=True,
        )
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
        result = services.result_event("port_status", await reply_port(port, dispatcher))
        # The list of suspended ports is a one-off question, not a port to remember.
        return [result, SlotSet("port", None)] if port == SUSPENDED_PORTS else [result]

"""Campus recruitment (24365, open all hours): job fairs, positions, registration."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import YES_NO, GovFormValidationAction, SlotSpec, Updates, chat_user
from actions.identity import IDENTITY_SPECS, PHONE, IdentityMixin, identity_slots, is_verified
from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    Invalid,
    Result,
    Valid,
    validate_confirmation,
    validate_graduation_year,
    validate_school,
)
from actions.wording import Wording
from bot.clock import china_today
from bot.names import FORM_LABELS, label
from integrations.services import ServiceRejected, ServiceUnavailable, idempotency_key
from integrations.services.campus import JobFair, Page, Position, Registration

PAGE_SIZE = 5
FAILED = "failed"
ONLINE = re.compile(r"线上|网上|网络|空中|云|online|在线", re.IGNORECASE)
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
DEGREES = {"专科": ("专科", "大专", "高职"), "本科": ("本科", "学士"), "硕士": ("硕士", "研究生"), "博士": ("博士",)}
# How a fair's status reads in a list (a part of the domain each); an unknown status is shown as it comes.
STATUS_PARTS = {
    "open": "utter_job_fair_status_open",
    "full": "utter_job_fair_status_full",
    "past": "utter_job_fair_status_past",
}


# -- understanding the request -------------------------------------------------------------


def date_range(text: str, today: date | None = None) -> tuple[date | None, date | None]:
    """Dates people say when looking for fairs: 今天, 明天, 本周, 下周, 周末, 本月, 下个月, 12月."""
    today = today or china_today()
    monday = today - timedelta(days=today.weekday())
    if "今天" in text:
        return today, today
    if "明天" in text:
        return today + timedelta(days=1), today + timedelta(days=1)
    if re.search(r"下(个)?(周|星期|礼拜)", text):
        return monday + timedelta(days=7), monday + timedelta(days=13)
    if re.search(r"(本|这个?)(周|星期|礼拜)", text):
        return today, monday + timedelta(days=6)
    if "周末" in text:
        return monday + timedelta(days=5), monday + timedelta(days=6)
    if re.search(r"下(个)?月", text):
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return first, first.replace(day=monthrange(first.year, first.month)[1])
    if re.search(r"(本|这个?)月", text):
        return today, today.replace(day=monthrange(today.year, today.month)[1])
    month = re.search(r"(?<!\d)(1[0-2]|[1-9])月", text)
    if month:
        m = int(month.group(1))
        year = today.year + (m < today.month)
        return date(year, m, 1), date(year, m, monthrange(year, m)[1])
    return None, None


def parse_ordinal(text: str) -> int | None:
    """1-based position in the list just shown ("第二个", "第3场", "2号", "2"); -1 for the last one."""
    if "最后" in text:
        return -1
    if re.search(r"(头|首)一?(个|场|家)", text):
        return 1
    found = re.search(r"第\s*([一二两三四五六七八九十]|\d{1,2})", text) or re.search(
        r"^\s*(\d{1,2})\s*(号|个|场|家)?\s*$", text
    )
    if not found:
        return None
    token = found.group(1)
    return int(token) if token.isdigit() else CN_DIGITS[token]


def validate_degree(text: str) -> Result:
    for degree, words in DEGREES.items():
        if any(w in text for w in words):
            return Valid(degree)
    return Invalid("utter_invalid_degree")


def validate_major(text: str) -> Result:
    value = re.sub(r"^(我是|我学的是|我学|专业是|读的是)|专业$", "", text.strip(" 。，,"))
    if not value or len(value) > 20 or re.search(r"\d", value):
        return Invalid("utter_invalid_major")
    return Valid(value)


def validate_fair_id(text: str) -> Result:
    value = text.strip().upper()
    return Valid(value) if re.fullmatch(r"JF\d{4}", value) else Invalid("utter_invalid_job_fair_id")


# -- showing lists ------------------------------------------------------------------------


def fair_line(number: int, fair: JobFair, words: Wording) -> str:
    if fair.start_date == fair.end_date:
        when = fair.start_date
    else:
        when = words.part("utter_job_fair_dates", start_date=fair.start_date, end_date=fair.end_date)
    status = STATUS_PARTS.get(fair.status)
    seats = words.part("utter_job_fair_seats", registered=fair.registered, capacity=fair.capacity)
    return words.part(
        "utter_job_fair_line",
        number=number,
        title=fair.title,
        when=when,
        where=words.part("utter_job_fair_online") if fair.online else fair.city,
        venue=fair.venue,
        status=words.part(status) if status else fair.status,
        seats=seats if fair.status == "open" else "",  # how full only while one can still register
    )


def position_line(number: int, position: Position, words: Wording) -> str:
    return words.part(
        "utter_position_line",
        number=number,
        title=position.title,
        company=position.company,
        city=position.city,
        degree=position.degree,
        salary=position.salary,
        headcount=position.headcount,
    )


def more_button(page: Page, words: Wording) -> list[dict]:
    return [{"title": words.part("utter_show_more_button"), "payload": "/show_more"}] if page.has_more else []


def tell_fairs(page: Page, words: Wording, dispatcher: CollectingDispatcher) -> None:
    first = (page.page - 1) * page.page_size + 1
    lines = [fair_line(first + i, f, words) for i, f in enumerate(page.items)]
    buttons = [
        {
            "title": words.part("utter_job_fair_register_button", number=first + i),
            "payload": f'/job_fair_register{{"job_fair_id":"{f.fair_id}"}}',
        }
        for i, f in enumerate(page.items)
        if f.status == "open"
    ]
    dispatcher.utter_message(
        response="utter_job_fairs_found_more" if page.has_more else "utter_job_fairs_found",
        total=page.total,
        first=first,
        last=first + len(page.items) - 1,
        fairs="\n".join(lines),
        buttons=buttons + more_button(page, words),
    )


def tell_positions(page: Page, words: Wording, dispatcher: CollectingDispatcher) -> None:
    first = (page.page - 1) * page.page_size + 1
    lines = [position_line(first + i, p, words) for i, p in enumerate(page.items)]
    dispatcher.utter_message(
        response="utter_positions_found_more" if page.has_more else "utter_positions_found",
        total=page.total,
        first=first,
        last=first + len(page.items) - 1,
        positions="\n".join(lines),
        buttons=more_button(page, words),
    )


async def fetch_page(kind: str, query: dict[str, Any], page: int) -> Page:
    if kind == "fairs":
        return await services.campus().search_job_fairs(**query, page=page, page_size=PAGE_SIZE)
    return await services.campus().search_positions(**query, page=page, page_size=PAGE_SIZE)


# When the filters find nothing, drop them one group at a time in this order, and say which were dropped. Online
# fairs are open to everyone wherever they are held, so for an online search the city goes first.
RELAX_ORDER = {
    "fairs": [("date_from", "date_to"), ("industry",), ("major",), ("city",), ("online",)],
    "positions": [("industry",), ("major",), ("city",), ("degree",)],
}


def relaxations(kind: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Ever looser versions of `query` (each one dropping one more group of filters it has)."""
    order = list(RELAX_ORDER[kind])
    if query.get("online") and "city" in query:
        order.insert(0, ("city",))
    relaxed = dict(query)
    for group in order:
        if any(key in relaxed for key in group):
            relaxed = {key: value for key, value in relaxed.items() if key not in group}
            yield relaxed


def describe(query: dict[str, Any], words: Wording) -> str:
    """The filters in the citizen's words, e.g. 杭州、线上、互联网行业 (each part a domain response)."""
    parts = [query.get("city") or words.part("utter_search_nationwide")]
    if query.get("online"):
        parts.append(words.part("utter_job_fair_online"))
    if query.get("industry"):
        parts.append(words.part("utter_search_industry", industry=query["industry"]))
    if query.get("major"):
        parts.append(words.part("utter_search_major", major=query["major"]))
    if query.get("degree"):
        parts.append(words.part("utter_search_degree", degree=query["degree"]))
    if query.get("date_from") and query.get("date_to"):
        parts.append(words.part("utter_job_fair_dates", start_date=query["date_from"], end_date=query["date_to"]))
    elif query.get("date_from"):
        parts.append(words.part("utter_search_from", start_date=query["date_from"]))
    return "、".join(parts)


async def search_relaxing(kind: str, query: dict[str, Any]) -> tuple[Page, dict[str, Any]]:
    """The first page for `query`, or, when it finds nothing, for the first looser query that finds something."""
    page = await fetch_page(kind, query, 1)
    for relaxed in relaxations(kind, query) if not page.items else ():
        looser = await fetch_page(kind, relaxed, 1)
        if looser.items:
            return looser, relaxed
    return page, query


async def show_page(
    kind: str, query: dict[str, Any], page_no: int, words: Wording, dispatcher: CollectingDispatcher
) -> list[EventType]:
    try:
        if page_no == 1:
            page, shown_query = await search_relaxing(kind, query)
        else:
            page, shown_query = await fetch_page(kind, query, page_no), query
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error, "utter_service_unavailable")
        return [services.result_event("campus_search", "error")]
    except ServiceRejected as error:
        services.tell_refused(dispatcher, error)
        return []
    if not page.items:
        dispatcher.utter_message(response="utter_job_fairs_none" if kind == "fairs" else "utter_positions_none")
        return [SlotSet("result_list", None)]
    if shown_query != query:
        dispatcher.utter_message(
            response="utter_job_fairs_relaxed" if kind == "fairs" else "utter_positions_relaxed",
            asked=describe(query, words), shown=describe(shown_query, words),
        )
    if kind == "fairs":
        tell_fairs(page, words, dispatcher)
    else:
        tell_positions(page, words, dispatcher)
    items = [{"id": getattr(i, "fair_id", None) or i.position_id, "title": i.title} for i in page.items]
    first = (page.page - 1) * page.page_size
    return [SlotSet("result_list", {"kind": kind, "query": shown_query, "page": page.page, "total": page.total,
                                    "first": first, "items": items})]


def entity(tracker: Tracker, name: str) -> str | None:
    return next(tracker.get_latest_entity_values(name), None)


class ActionSearchJobFairs(Action):
    def name(self) -> str:
        return "action_search_job_fairs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        start, end = date_range(text)
        query = {
            "city": entity(tracker, "city"),
            "industry": entity(tracker, "industry"),
            "major": entity(tracker, "major"),
            "online": True if ONLINE.search(text) else None,
            "date_from": start.isoformat() if start else None,
            "date_to": end.isoformat() if end else None,
        }
        query = {k: v for k, v in query.items() if v is not None}
        return await show_page("fairs", query, 1, Wording(domain, tracker), dispatcher)


class ActionSearchJobs(Action):
    def name(self) -> str:
        return "action_search_jobs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        query = {name: entity(tracker, name) for name in ("city", "industry", "major", "degree")}
        query = {k: v for k, v in query.items() if v}
        return await show_page("positions", query, 1, Wording(domain, tracker), dispatcher)


class ActionShowMore(Action):
    def name(self) -> str:
        return "action_show_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        shown = tracker.get_slot("result_list")
        if not shown:
            dispatcher.utter_message(response="utter_no_list_to_page")
            return []
        if shown["first"] + len(shown["items"]) >= shown["total"]:
            dispatcher.utter_message(response="utter_last_page")
            return []
        return await show_page(shown["kind"], shown["query"], shown["page"] + 1, Wording(domain, tracker), dispatcher)


# -- registration -------------------------------------------------------------------------


class ValidateJobFairRegistrationForm(IdentityMixin, GovFormValidationAction):
    level = PHONE
    specs = {
        "job_fair_id": SlotSpec(validate_fair_id, "utter_explain_job_fair_id", entity="job_fair_id"),
        **{k: v for k, v in IDENTITY_SPECS.items() if k != "id_number"},
        "school": SlotSpec(validate_school, "utter_explain_school", free_text=True),
        "reg_major": SlotSpec(validate_major, "utter_explain_reg_major", entity="major", free_text=True),
        "reg_degree": SlotSpec(validate_degree, "utter_explain_reg_degree", entity="degree"),
        "graduation_year": SlotSpec(validate_graduation_year, "utter_explain_graduation_year"),
        "fair_registration_confirm": SlotSpec(
            validate_confirmation, "utter_explain_fair_registration_confirm", intents=YES_NO
        ),
    }

    def name(self) -> str:
        return "validate_job_fair_registration_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return ["job_fair_id", *identity_slots(tracker, PHONE), "school", "reg_major", "reg_degree",
                "graduation_year", "fair_registration_confirm"]

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        text = tracker.latest_message.get("text") or ""
        if "job_fair_id" not in from_entities and requested in (None, "job_fair_id"):
            fair_id = self.fair_from_list(tracker, entity(tracker, "ordinal") or text)
            if fair_id:
                candidates["job_fair_id"] = fair_id
                from_entities.add("job_fair_id")
        return candidates, from_entities

    @staticmethod
    def fair_from_list(tracker: Tracker, text: str) -> str | None:
        shown = tracker.get_slot("result_list") or {}
        position = parse_ordinal(text)
        if shown.get("kind") != "fairs" or position is None:
            return None
        items = shown["items"]
        index = position - 1 - shown.get("first", 0) if position > 0 else len(items) - 1
        if 0 <= index < len(items):
            return items[index]["id"]
        return None

    async def after_job_fair_id(
        self, fair_id: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        try:
            fair = await services.campus().get_job_fair(fair_id)
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable")
            return {"job_fair_id": None, services.RESULT_SLOT: services.result("job_fair_registration", "error")}
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return {"job_fair_id": None}
        if fair.status != "open":
            dispatcher.utter_message(
                response="utter_job_fair_full" if fair.status == "full" else "utter_job_fair_closed", title=fair.title
            )
            return {"job_fair_id": None, services.RESULT_SLOT: services.result("job_fair_registration", "rejected")}
        dispatcher.utter_message(response="utter_job_fair_chosen", title=fair.title, start_date=fair.start_date)
        return {"job_fair_id": fair.fair_id}

    async def after_fair_registration_confirm(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == DECLINED:
            dispatcher.utter_message(response="utter_job_fair_registration_declined")
            return {"fair_registration_confirm": DECLINED}
        fair_id = tracker.get_slot("job_fair_id")
        key = idempotency_key(tracker.sender_id, f"job_fair:{fair_id}", tracker.get_slot("identity_token") or "")
        try:
            registration = await services.campus().register(
                fair_id,
                token=tracker.get_slot("identity_token"),
                chat_user=chat_user(tracker),
                idempotency_key=key,
                name=tracker.get_slot("person_name"),
                school=tracker.get_slot("school"),
                major=tracker.get_slot("reg_major"),
                degree=tracker.get_slot("reg_degree"),
                graduation_year=int(tracker.get_slot("graduation_year")),
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_registration_kept")
            return {
                "fair_registration_confirm": None,
                services.RESULT_SLOT: services.result("job_fair_registration", "error"),
            }
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return {
                "fair_registration_confirm": FAILED,
                services.RESULT_SLOT: services.result("job_fair_registration", "rejected"),
            }
        return {
            "fair_registration_confirm": CONFIRMED,
            "fair_registration": asdict(registration),
            services.RESULT_SLOT: services.result("job_fair_registration", "completed", registration.registration_no),
        }


class ActionAskJobFairId(Action):
    def name(self) -> str:
        return "action_ask_job_fair_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        shown = tracker.get_slot("result_list") or {}
        if shown.get("kind") == "fairs":
            dispatcher.utter_message(response="utter_job_fair_which_in_list")
            return []
        dispatcher.utter_message(response="utter_job_fair_which")
        return await show_page("fairs", {}, 1, Wording(domain, tracker), dispatcher)


class ActionAskFairRegistrationConfirm(Action):
    def name(self) -> str:
        return "action_ask_fair_registration_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        phone = tracker.get_slot("phone") or ""
        # The other values are the form's slots, which the response names itself; the phone is shown masked.
        dispatcher.utter_message(
            response="utter_job_fair_registration_confirm", phone_masked=f"{phone[:3]}****{phone[-4:]}"
        )
        return []


class ActionSubmitJobFairRegistration(Action):
    def name(self) -> str:
        return "action_submit_job_fair_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        data = tracker.get_slot("fair_registration")
        if tracker.get_slot("fair_registration_confirm") == CONFIRMED and data:
            registration = Registration(**data)
            dispatcher.utter_message(
                response="utter_job_fair_registered" if registration.created else "utter_job_fair_registered_before",
                registration=registration_record(registration, Wording(domain, tracker)),
            )
        # The graduate's school, major and degree stay for the next registration.
        return [SlotSet(s, None) for s in ("job_fair_id", "fair_registration_confirm", "fair_registration")]


def registration_record(r: Registration, words: Wording) -> str:
    if r.online:
        where = words.part("utter_job_fair_online")
    else:
        where = words.part("utter_job_fair_place", city=r.city, venue=r.venue)
    return words.part(
        "utter_job_fair_registration_record",
        registration_no=r.registration_no,
        title=r.title,
        start_date=r.start_date,
        where=where,
        status_text=r.status_text,
    )


class ValidateJobRegistrationsForm(IdentityMixin, GovFormValidationAction):
    level = PHONE
    specs = {k: v for k, v in IDENTITY_SPECS.items() if k != "id_number"}

    def name(self) -> str:
        return "validate_job_registrations_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, PHONE)


async def answer_registrations_digression(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> bool:
    """"我报名了哪些招聘会" in the middle of a form: listed when the phone is already verified; otherwise the citizen
    is told how to ask once the current form is done (the list is personal data: never without verification)."""
    if not is_verified(tracker, PHONE):
        form = label(FORM_LABELS, (tracker.active_loop or {}).get("name", ""))
        dispatcher.utter_message(response="utter_registrations_after_verification", form=form)
        return True
    await ActionListJobFairRegistrations().run(dispatcher, tracker, domain)
    return True


class ActionListJobFairRegistrations(Action):
    def name(self) -> str:
        return "action_list_job_fair_registrations"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            registrations = await services.campus().list_registrations(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker)
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified")
            return [services.result_event("job_fair_registration", "error")]
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return []
        if not registrations:
            dispatcher.utter_message(response="utter_job_fair_registrations_none")
            return []
        words = Wording(domain, tracker)
        listing = "\n\n".join(registration_record(r, words) for r in registrations)
        dispatcher.utter_message(
            response="utter_job_fair_registrations", count=len(registrations), registrations=listing
        )
        return []

"""Campus recruitment (24365, open all hours): job fairs, positions, registration."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import YES_NO, GovFormValidationAction, SlotSpec, Updates, chat_user
from actions.identity import IDENTITY_SPECS, PHONE, IdentityMixin, identity_slots
from actions.validators import (
    CONFIRMED,
    DECLINED,
    Invalid,
    Result,
    Valid,
    validate_confirmation,
    validate_graduation_year,
    validate_school,
)
from integrations.services import ServiceRejected, ServiceUnavailable, idempotency_key
from integrations.services.campus import JobFair, Page, Position, Registration

PAGE_SIZE = 5
FAILED = "failed"
ONLINE = re.compile(r"线上|网上|网络|空中|云|online|在线", re.IGNORECASE)
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
DEGREES = {"专科": ("专科", "大专", "高职"), "本科": ("本科", "学士"), "硕士": ("硕士", "研究生"), "博士": ("博士",)}
STATUS_TEXT = {"open": "报名中", "full": "名额已满", "past": "已结束"}


# -- understanding the request -------------------------------------------------------------


def date_range(text: str, today: date | None = None) -> tuple[date | None, date | None]:
    """Dates people say when looking for fairs: 今天, 明天, 本周, 下周, 周末, 本月, 下个月, 12月."""
    today = today or date.today()
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
    return Invalid("请从专科、本科、硕士、博士中选择您的学历")


def validate_major(text: str) -> Result:
    value = re.sub(r"^(我是|我学的是|我学|专业是|读的是)|专业$", "", text.strip(" 。，,"))
    if not value or len(value) > 20 or re.search(r"\d", value):
        return Invalid("请填写您所学的专业名称")
    return Valid(value)


def validate_fair_id(text: str) -> Result:
    value = text.strip().upper()
    return Valid(value) if re.fullmatch(r"JF\d{4}", value) else Invalid("没有找到您说的这场招聘会")


# -- showing lists ------------------------------------------------------------------------


def fair_line(index: int, fair: JobFair) -> str:
    where = "线上" if fair.online else fair.city
    when = fair.start_date if fair.start_date == fair.end_date else f"{fair.start_date}至{fair.end_date}"
    seats = f"，已报{fair.registered}/{fair.capacity}人" if fair.status == "open" else ""
    status = STATUS_TEXT.get(fair.status, fair.status)
    return f"{index}. {fair.title}\n   {when}｜{where}｜{fair.venue}｜{status}{seats}"


def position_line(index: int, position: Position) -> str:
    return (
        f"{index}. {position.title}｜{position.company}\n"
        f"   {position.city}｜{position.degree}及以上｜{position.salary}｜招{position.headcount}人"
    )


def list_message(kind: str, page: Page) -> tuple[str, list[dict]]:
    first = (page.page - 1) * page.page_size + 1
    if kind == "fairs":
        lines = [fair_line(first + i, f) for i, f in enumerate(page.items)]
        buttons = [
            {"title": f"报名第{first + i}场", "payload": f'/job_fair_register{{"job_fair_id":"{f.fair_id}"}}'}
            for i, f in enumerate(page.items)
            if f.status == "open"
        ]
        head = f"为您找到{page.total}场招聘会（第{first}-{first + len(page.items) - 1}场）：\n"
        tail = "\n回复“报名第N场”即可报名。"
    else:
        lines = [position_line(first + i, p) for i, p in enumerate(page.items)]
        buttons = []
        head = f"为您找到{page.total}个岗位（第{first}-{first + len(page.items) - 1}个）：\n"
        tail = ""
    if page.has_more:
        buttons.append({"title": "查看更多", "payload": "/show_more"})
        tail += "\n回复“更多”查看下一页。"
    return head + "\n".join(lines) + tail, buttons


async def fetch_page(kind: str, query: dict[str, Any], page: int) -> Page:
    if kind == "fairs":
        return await services.campus().search_job_fairs(**query, page=page, page_size=PAGE_SIZE)
    return await services.campus().search_positions(**query, page=page, page_size=PAGE_SIZE)


async def show_page(
    kind: str, query: dict[str, Any], page_no: int, dispatcher: CollectingDispatcher
) -> list[EventType]:
    try:
        page = await fetch_page(kind, query, page_no)
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error)
        return [services.result_event("campus_search", "error")]
    except ServiceRejected as error:
        dispatcher.utter_message(text=error.message)
        return []
    if not page.items:
        what = "招聘会" if kind == "fairs" else "岗位"
        again = "/job_fair_search" if kind == "fairs" else "/job_search"
        dispatcher.utter_message(
            text=f"暂未找到符合条件的{what}。您可以换个城市、行业或专业试试。",
            buttons=[{"title": f"查看全部{what}", "payload": again}],
        )
        return [SlotSet("result_list", None)]
    text, buttons = list_message(kind, page)
    dispatcher.utter_message(text=text, buttons=buttons)
    items = [{"id": getattr(i, "fair_id", None) or i.position_id, "title": i.title} for i in page.items]
    first = (page.page - 1) * page.page_size
    return [SlotSet("result_list", {"kind": kind, "query": query, "page": page.page, "total": page.total,
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
        return await show_page("fairs", {k: v for k, v in query.items() if v is not None}, 1, dispatcher)


class ActionSearchJobs(Action):
    def name(self) -> str:
        return "action_search_jobs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        query = {name: entity(tracker, name) for name in ("city", "industry", "major", "degree")}
        return await show_page("positions", {k: v for k, v in query.items() if v}, 1, dispatcher)


class ActionShowMore(Action):
    def name(self) -> str:
        return "action_show_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        shown = tracker.get_slot("result_list")
        if not shown:
            dispatcher.utter_message(text="目前没有可以翻页的列表。您可以说“查招聘会”或“查岗位”开始查询。")
            return []
        if shown["first"] + len(shown["items"]) >= shown["total"]:
            dispatcher.utter_message(text="已经是最后一页了。您可以换个条件重新查询，或回复“报名第N场”报名。")
            return []
        return await show_page(shown["kind"], shown["query"], shown["page"] + 1, dispatcher)


# -- registration -------------------------------------------------------------------------


class ValidateJobFairRegistrationForm(IdentityMixin, GovFormValidationAction):
    level = PHONE
    specs = {
        "job_fair_id": SlotSpec(
            validate_fair_id, "请点击列表中的“报名第N场”按钮，或直接回复序号，例如：2", entity="job_fair_id"
        ),
        **{k: v for k, v in IDENTITY_SPECS.items() if k != "id_number"},
        "school": SlotSpec(validate_school, "请填写学校全称，例如：浙江大学", free_text=True),
        "reg_major": SlotSpec(validate_major, "请填写专业名称，例如：计算机科学与技术", entity="major",
                              free_text=True),
        "reg_degree": SlotSpec(validate_degree, "请回复专科、本科、硕士或博士", entity="degree"),
        "graduation_year": SlotSpec(validate_graduation_year, "请输入4位数字的毕业年份，例如：2026"),
        "fair_registration_confirm": SlotSpec(
            validate_confirmation, "回复“确认”提交报名，回复“取消”放弃报名", intents=YES_NO
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
            services.tell_unavailable(dispatcher, error)
            return {"job_fair_id": None, services.RESULT_SLOT: services.result("job_fair_registration", "error")}
        except ServiceRejected as error:
            dispatcher.utter_message(text=error.message)
            return {"job_fair_id": None}
        if fair.status != "open":
            reason = "报名名额已满" if fair.status == "full" else "已经结束"
            dispatcher.utter_message(text=f"抱歉，“{fair.title}”{reason}，无法报名。请选择其他招聘会。")
            return {"job_fair_id": None, services.RESULT_SLOT: services.result("job_fair_registration", "rejected")}
        dispatcher.utter_message(text=f"好的，为您报名“{fair.title}”（{fair.start_date}）。")
        return {"job_fair_id": fair.fair_id}

    async def after_fair_registration_confirm(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == DECLINED:
            dispatcher.utter_message(text="好的，本次报名未提交。如需报名其他招聘会，请随时告诉我。")
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
            services.tell_unavailable(
                dispatcher, error, "报名尚未提交成功，信息已为您保留；稍后回复“确认”即可重新提交，不会重复报名。"
            )
            return {
                "fair_registration_confirm": None,
                services.RESULT_SLOT: services.result("job_fair_registration", "error"),
            }
        except ServiceRejected as error:
            dispatcher.utter_message(text=error.message)
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
            dispatcher.utter_message(text="请问您要报名上面列表中的哪一场？请点击“报名”按钮或回复序号，例如：2")
            return []
        dispatcher.utter_message(text="请问您要报名哪一场招聘会？以下是近期可报名的招聘会：")
        return await show_page("fairs", {}, 1, dispatcher)


class ActionAskFairRegistrationConfirm(Action):
    def name(self) -> str:
        return "action_ask_fair_registration_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slot = tracker.get_slot
        phone = slot("phone") or ""
        dispatcher.utter_message(
            text="请确认您的报名信息：\n"
            f"招聘会编号：{slot('job_fair_id')}\n姓名：{slot('person_name')}\n手机：{phone[:3]}****{phone[-4:]}\n"
            f"学校：{slot('school')}\n专业：{slot('reg_major')}\n学历：{slot('reg_degree')}\n"
            f"毕业年份：{slot('graduation_year')}\n确认无误请回复“确认”。",
            buttons=[{"title": "确认报名", "payload": "/affirm"}, {"title": "不报了", "payload": "/deny"}],
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
            again = "" if registration.created else "（您此前已报名该招聘会，以下为原报名信息）"
            dispatcher.utter_message(text=f"报名成功{again}！\n{registration_text(registration)}\n"
                                     "请按时参加；如需查看全部报名，请回复“我的报名”。")
        # The graduate's school, major and degree stay for the next registration.
        return [SlotSet(s, None) for s in ("job_fair_id", "fair_registration_confirm", "fair_registration")]


def registration_text(r: Registration) -> str:
    where = "线上" if r.online else f"{r.city}·{r.venue}"
    return (
        f"报名编号：{r.registration_no}\n招聘会：{r.title}\n"
        f"时间：{r.start_date}｜地点：{where}\n状态：{r.status_text}"
    )


class ValidateJobRegistrationsForm(IdentityMixin, GovFormValidationAction):
    level = PHONE
    specs = {k: v for k, v in IDENTITY_SPECS.items() if k != "id_number"}

    def name(self) -> str:
        return "validate_job_registrations_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, PHONE)


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
            services.tell_unavailable(dispatcher, error, "您的身份已验证，稍后再问我一次即可。")
            return [services.result_event("job_fair_registration", "error")]
        except ServiceRejected as error:
            dispatcher.utter_message(text=error.message)
            return []
        if not registrations:
            dispatcher.utter_message(
                text="您目前还没有报名任何招聘会。需要我为您查找近期的招聘会吗？",
                buttons=[{"title": "查找招聘会", "payload": "/job_fair_search"}],
            )
            return []
        listing = "\n\n".join(registration_text(r) for r in registrations)
        dispatcher.utter_message(text=f"您共报名了{len(registrations)}场招聘会：\n{listing}")
        return []
